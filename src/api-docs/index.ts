export { setupOpenApi } from './openapi.setup';
export { buildOpenApiDocument } from './openapi.document';
