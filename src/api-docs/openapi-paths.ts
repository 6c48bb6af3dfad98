/** Where the OpenAPI document and its browsable reference are served. */
export const OPENAPI_JSON_PATH = '/api/openapi.json';
export const DOCS_PATH = '/api/docs';
