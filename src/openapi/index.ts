// What modules use to describe their routes and bodies. The document builder and the docs setup are the app
// assembly's (main.ts, app.factory.ts, openapi.cli.ts): exporting them here would make every controller load them.
export { ApiUuid, ApiDateTime, ApiEnum, ApiInt } from './api-property';
export { ApiErrors } from './api-errors.decorator';
export { ApiEventStream } from './api-event-stream.decorator';
