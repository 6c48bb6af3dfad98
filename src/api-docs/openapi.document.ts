import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type {
  OpenAPIObject,
  OperationObject,
  ParameterObject,
  ResponseObject,
  SecurityRequirementObject,
} from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { PACKAGE_VERSION } from '../http';
import { ERROR_CODES, ErrorCode, errorBodySchema, errorResponse } from '../openapi';
import { DOCS_PATH, OPENAPI_JSON_PATH } from './openapi-paths';
import { operationId, RouteAccess, routeAccessByOperation } from './route-access';

const DESCRIPTION = `Training jobs, approvals, the priority queue, providers and the live event stream of SimpleTuner Cloud.

Authenticate with \`X-API-Key: st_…\` or \`Authorization: Bearer st_…\`. Each operation names the lowest level that
may call it (\`viewer\` < \`researcher\` < \`lead\` < \`admin\`); a resource the caller may not see answers 404, an action
on a visible one that its level does not allow answers 403.

Every error is \`{error, message, details?, correlation_id}\` with a stable \`error\` code, and every response carries
\`X-Correlation-ID\`: the id under which the service logged the request.`;

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head'] as const;
const CODE_BY_SCHEMA = new Map(Object.entries(ERROR_CODES).map(([code, doc]) => [doc.schema, code as ErrorCode]));
const KEYED_SECURITY: SecurityRequirementObject[] = [{ 'api-key': [] }, { bearer: [] }, { session: [] }];

const correlationHeader = { $ref: '#/components/headers/X-Correlation-ID' };
/** On the answers of a limited route once the limiter has counted the request (so not on a 401 from the key check). */
const RATE_LIMIT_HEADERS = Object.fromEntries(
  ['RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset'].map((h) => [h, { $ref: `#/components/headers/${h}` }]),
);

/** The response headers the document refers to. */
const COMPONENT_HEADERS = {
  'X-Correlation-ID': {
    description: 'The id of this request in the service logs (the one sent, when valid, else a generated one)',
    schema: { type: 'string', example: 'abc123def456' },
  },
  'Retry-After': { description: 'Seconds to wait before trying again', schema: { type: 'integer', minimum: 1 } },
  'RateLimit-Limit': {
    description: "Requests the caller's tightest limit on this route allows per window (a minute)",
    schema: { type: 'integer', minimum: 1 },
  },
  'RateLimit-Remaining': {
    description: 'Requests left in the current window under that limit',
    schema: { type: 'integer', minimum: 0 },
  },
  'RateLimit-Reset': {
    description: 'Seconds until the current window ends',
    schema: { type: 'integer', minimum: 1 },
  },
};

/** The OpenAPI document of the running app: generated from its controllers and DTOs, then completed from rules. */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('SimpleTuner Cloud API')
    .setDescription(DESCRIPTION)
    .setVersion(PACKAGE_VERSION)
    .addApiKey(
      { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'An API key, `st_` + 32 characters' },
      'api-key',
    )
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'The same API key as a bearer token' }, 'bearer')
    .addApiKey(
      { type: 'apiKey', in: 'query', name: 'api_key', description: "For browsers' EventSource only (never logged)" },
      'api-key-query',
    )
    .addApiKey(
      {
        type: 'apiKey',
        in: 'cookie',
        name: 'st_session',
        description:
          'A browser session from single sign-on (GET /api/auth/oidc/login); a change made with it also needs the ' +
          "session's X-CSRF-Token header",
      },
      'session',
    )
    .build();
  config.components = {
    ...config.components,
    schemas: Object.fromEntries(
      Object.entries(ERROR_CODES).map(([code, d]) => [d.schema, errorBodySchema(code as ErrorCode)]),
    ),
    headers: COMPONENT_HEADERS,
    parameters: {
      'X-Correlation-ID': {
        name: 'X-Correlation-ID',
        in: 'header',
        required: false,
        description: 'Your id for this request (`^[A-Za-z0-9._:-]{1,128}$`); it is used in the logs and echoed back',
        schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,128}$' },
      },
    },
  };
  const document = SwaggerModule.createDocument(app, config, { operationIdFactory: operationId });
  completeOperations(document, routeAccessByOperation(app));
  Object.assign(document.paths, selfPaths());
  return document;
}

/** This document and its reference page (served beside the controllers, so described here). */
function selfPaths(): OpenAPIObject['paths'] {
  const page = (summary: string, type: string, description: string): OperationObject => ({
    operationId: summary === 'This document' ? 'OpenApi_document' : 'OpenApi_reference',
    summary,
    description: `No API key needed.\n\n${description}`,
    tags: ['Reference'],
    security: [],
    parameters: [{ $ref: '#/components/parameters/X-Correlation-ID' }],
    responses: {
      '200': {
        description,
        headers: { 'X-Correlation-ID': correlationHeader },
        content: { [type]: { schema: type === 'application/json' ? { type: 'object' } : { type: 'string' } } },
      },
    },
  });
  return {
    [OPENAPI_JSON_PATH]: { get: page('This document', 'application/json', 'The OpenAPI 3 document of this API') },
    [DOCS_PATH]: {
      get: page('Browsable reference', 'text/html', 'This document in Swagger UI, served by the service'),
    },
  };
}

/** Adds what follows from how a route is reached: security, its level, and the errors every such route shares. */
function completeOperations(document: OpenAPIObject, access: Map<string, RouteAccess>): void {
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of HTTP_METHODS) {
      const op = item[method];
      if (!op) continue;
      const rules = access.get(op.operationId ?? '');
      if (!rules) throw new Error(`No access rules found for ${method.toUpperCase()} ${path} (${op.operationId})`);
      applyAccess(op, rules);
      addSharedErrors(op, rules, method);
      for (const response of Object.values(op.responses) as ResponseObject[]) {
        response.headers = {
          'X-Correlation-ID': correlationHeader,
          ...response.headers,
          ...(rules.rateLimited ? RATE_LIMIT_HEADERS : {}),
        };
      }
      const retry = op.responses['429'] as ResponseObject | undefined;
      if (retry) retry.headers = { ...retry.headers, 'Retry-After': { $ref: '#/components/headers/Retry-After' } };
      op.parameters = [...(op.parameters ?? []), { $ref: '#/components/parameters/X-Correlation-ID' }];
    }
  }
}

function applyAccess(op: OperationObject, rules: RouteAccess): void {
  const who = rules.public
    ? 'No API key needed.'
    : rules.minLevel === 'admin'
      ? 'Level `admin` only.'
      : `Level \`${rules.minLevel}\` or above.`;
  op.description = op.description ? `${who}\n\n${op.description}` : who;
  op.security = rules.public ? [] : rules.queryKey ? [...KEYED_SECURITY, { 'api-key-query': [] }] : KEYED_SECURITY;
  if (rules.minLevel) Object.assign(op, { 'x-min-level': rules.minLevel });
}

/**
 * Errors that come from the edge and the guards rather than the route: a key that fails (401), an address that
 * failed too often or a caller past its rate limit (429), a level too low or a session's change without its CSRF token (403), a bad parameter, header or body (400), a body too large (413),
 * and the request timeout (503; not on the event stream, which is long-lived by design).
 */
function addSharedErrors(op: OperationObject, rules: RouteAccess, method: string): void {
  const add = (code: ErrorCode) => addError(op, code);
  const streams = Object.keys((op.responses['200'] as ResponseObject | undefined)?.content ?? {}).includes(
    'text/event-stream',
  );
  const params = (op.parameters ?? []) as ParameterObject[];
  if (op.requestBody) {
    add('validation_error');
    add('payload_too_large');
  }
  if (params.some((p) => p.in === 'path' || p.in === 'query' || p.in === 'header')) add('validation_error');
  if (rules.rateLimited) add('rate_limit_exceeded'); // an anonymous caller: by its address
  if (rules.public) return;
  add('authentication_error');
  if (rules.minLevel !== 'viewer') add('permission_denied');
  if (method !== 'get') add('csrf_token_invalid');
  if (!streams) add('request_timeout');
}

/** Adds `code` to the error response of its status, keeping the codes already there. */
function addError(op: OperationObject, code: ErrorCode): void {
  const status = ERROR_CODES[code].status;
  const existing = op.responses[String(status)] as ResponseObject | undefined;
  const codes = existing ? codesOf(existing) : [];
  if (codes.includes(code)) return;
  op.responses[String(status)] = { ...existing, ...errorResponse(status, [...codes, code]) };
}

function codesOf(response: ResponseObject): ErrorCode[] {
  const schema = response.content?.['application/json']?.schema as { $ref?: string; oneOf?: { $ref?: string }[] };
  const refs = schema?.oneOf ?? (schema ? [schema] : []);
  return refs.map((r) => CODE_BY_SCHEMA.get(r.$ref?.split('/').pop() ?? '')).filter((c): c is ErrorCode => !!c);
}
