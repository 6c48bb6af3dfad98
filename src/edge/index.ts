export { AllExceptionsFilter, sendErrorResponse, toErrorResponse } from './all-exceptions.filter';
export { installClientErrorHandler, correlationMiddleware, parseTraceparent } from './correlation.middleware';
export { installRequestEdge, JSON_LIMIT } from './request-edge';
export type { RawBodyRoute, RequestEdgeOptions } from './request-edge';
