// What modules use to describe their routes and bodies, and the error vocabulary the document builder (api-docs/)
// turns into responses. Nothing here imports another module, so every controller may import it.
export { ApiUuid, ApiDateTime, ApiEnum, ApiInt } from './api-property';
export { ApiErrors, errorResponse } from './api-errors.decorator';
export { ERROR_CODES, errorBodySchema } from './error-codes';
export type { ErrorCode } from './error-codes';
export { ApiEventStream } from './api-event-stream.decorator';
export { ApiIdempotentCreate } from './api-idempotent.decorator';
