'use strict';
/**
 * The contract check: every recorded response of the real app against the OpenAPI document (ajv, with formats),
 * and which documented (operation, status) pairs the run exercised. Plain CommonJS so that the Jest reporter
 * (contract-reporter.js) can load it; contract-check.d.ts types it for the tests.
 */
const Ajv = require('ajv');
const addFormats = require('ajv-formats');

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];
/** OpenAPI annotations that are not JSON Schema keywords. */
const DROPPED = new Set(['example', 'xml', 'externalDocs', 'discriminator', 'nullable']);
/** Keywords whose value is a schema, or a list or map of schemas. */
const SCHEMA = new Set(['items', 'not', 'additionalProperties']);
const SCHEMA_LIST = new Set(['allOf', 'oneOf', 'anyOf']);
const SCHEMA_MAP = new Set(['properties']);
/** Served by Swagger UI's static files: not API responses. */
const STATIC_PREFIXES = ['/api/docs/'];

/**
 * OpenAPI 3.0 schema → JSON Schema for ajv: `nullable` becomes `null` allowed, refs point into the shared
 * definitions, and every object with declared properties is closed, so a field the document does not describe
 * fails the check (the published document stays open for additions; the test holds the app to it).
 */
function toJsonSchema(schema) {
  if (!schema || typeof schema !== 'object') return schema;
  const out = {};
  for (const [key, value] of Object.entries(schema)) {
    if (DROPPED.has(key)) continue;
    if (key === '$ref') out.$ref = value.replace('#/components/schemas/', 'openapi#/definitions/');
    else if (SCHEMA.has(key) && typeof value === 'object') out[key] = toJsonSchema(value);
    else if (SCHEMA_LIST.has(key)) out[key] = value.map(toJsonSchema);
    else if (SCHEMA_MAP.has(key))
      out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJsonSchema(v)]));
    else out[key] = value;
  }
  if (out.properties && out.additionalProperties === undefined) out.additionalProperties = false;
  return schema.nullable === true ? { anyOf: [out, { type: 'null' }] } : out;
}

function createValidator(document) {
  const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, strictRequired: false });
  addFormats(ajv);
  const definitions = Object.fromEntries(
    Object.entries(document.components?.schemas ?? {}).map(([name, s]) => [name, toJsonSchema(s)]),
  );
  ajv.addSchema({ $id: 'openapi', definitions });
  const compiled = new Map();
  return (key, schema, value) => {
    let validate = compiled.get(key);
    if (!validate) {
      validate = ajv.compile(toJsonSchema(schema));
      compiled.set(key, validate);
    }
    if (validate(value)) return null;
    return validate.errors
      .map((e) => {
        const extra = e.params?.additionalProperty ?? e.params?.allowedValues;
        return `body${e.instancePath} ${e.message}${extra ? ` (${JSON.stringify(extra)})` : ''}`;
      })
      .join('; ');
  };
}

/** Every documented operation with a matcher; literal segments win over parameters (`/users/me` over `/users/{id}`). */
function operationsOf(document) {
  const ops = [];
  for (const [template, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const pattern = template
        .split('/')
        .map((seg) => (seg.startsWith('{') ? '[^/]+' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
        .join('/');
      ops.push({
        key: `${method.toUpperCase()} ${template}`,
        method: method.toUpperCase(),
        regex: new RegExp(`^${pattern}/?$`, 'i'),
        params: (template.match(/\{/g) ?? []).length,
        op,
      });
    }
  }
  return ops.sort((a, b) => a.params - b.params);
}

/** The error codes of the document's error schemas, and the statuses each is documented with. */
function errorCodes(document) {
  const statuses = new Map();
  for (const { op } of operationsOf(document)) {
    for (const [status, response] of Object.entries(op.responses)) {
      const schema = response.content?.['application/json']?.schema;
      for (const ref of schema?.oneOf ?? (schema ? [schema] : [])) {
        const name = ref.$ref?.split('/').pop();
        const code = document.components.schemas[name]?.properties?.error?.enum?.[0];
        if (!code) continue;
        if (!statuses.has(code)) statuses.set(code, { name, statuses: new Set() });
        statuses.get(code).statuses.add(Number(status));
      }
    }
  }
  return statuses;
}

/**
 * The events of a recorded stream: each one's name must be listed in its operation's `x-sse-events`, and its data a
 * JSON object whose `type` is that name. (Their fields are not held to the schemas: feature tests publish events of
 * real types with made-up payloads straight into the log.) A frame cut off by the recording limit is left out.
 */
function checkStream(match, text) {
  const problems = [];
  const frames = text.split('\n\n').slice(0, -1);
  for (const frame of frames) {
    const lines = frame.split('\n').filter((l) => !l.startsWith(':'));
    const field = (name) => lines.filter((l) => l.startsWith(`${name}:`)).map((l) => l.slice(name.length + 1).trim());
    const data = field('data');
    if (data.length === 0) continue;
    const event = field('event')[0] ?? 'message';
    if (!match.op['x-sse-events'][event]) {
      problems.push(`event "${event}" is not documented in x-sse-events`);
      continue;
    }
    let payload;
    try {
      payload = JSON.parse(data.join('\n'));
    } catch {
      payload = undefined;
    }
    if (payload?.type !== event) problems.push(`event "${event}" data is not a JSON object of that type`);
  }
  return problems;
}

const baseType = (contentType) => (contentType ?? '').split(';')[0].trim().toLowerCase();

/**
 * Checks recorded responses against the document. Returns the violations (with the test that caused each) and the
 * set of exercised `METHOD /template STATUS` keys.
 */
function checkResponses(document, records) {
  const ops = operationsOf(document);
  const codes = errorCodes(document);
  const validate = createValidator(document);
  const violations = [];
  const exercised = new Set();
  const fail = (r, problem) =>
    violations.push({ problem, response: `${r.method} ${r.path} → ${r.status}`, testPath: r.testPath });

  for (const r of records) {
    if (r.method === 'OPTIONS') continue; // CORS preflight, answered by the CORS middleware
    const method = r.method === 'HEAD' ? 'GET' : r.method;
    const match = ops.find((o) => o.method === method && o.regex.test(r.path));
    if (!match) {
      if (STATIC_PREFIXES.some((p) => r.path.startsWith(p))) continue;
      // No such route: Nest's 404, or an edge refusal before routing; either way an error body of the API.
      const code = codes.get(r.body?.error);
      if (!code || !code.statuses.has(r.status)) {
        fail(r, `no documented operation, and not an API error body (${JSON.stringify(r.body)?.slice(0, 120)})`);
        continue;
      }
      const problem = validate(`#${code.name}`, { $ref: `#/components/schemas/${code.name}` }, r.body);
      if (problem) fail(r, `error body of an unknown route: ${problem}`);
      continue;
    }
    const response = match.op.responses[String(r.status)];
    if (!response) {
      fail(r, `status ${r.status} is not documented for ${match.key}`);
      continue;
    }
    exercised.add(`${match.key} ${r.status}`);
    const content = response.content;
    const type = baseType(r.contentType);
    if (!content) {
      if (r.body !== undefined) fail(r, `${match.key} ${r.status} is documented without a body, but one was sent`);
      continue;
    }
    if (!(type in content)) {
      fail(r, `content type ${type || '(none)'} is not documented (${Object.keys(content).join(', ')})`);
      continue;
    }
    if (r.stream !== undefined && match.op['x-sse-events']) {
      for (const problem of checkStream(match, r.stream)) fail(r, problem);
      continue;
    }
    if (r.invalidJson !== undefined) {
      fail(r, `body is not valid JSON: ${r.invalidJson}`);
      continue;
    }
    const schema = content[type].schema;
    if (!schema || r.body === undefined) continue;
    const problem = validate(`${match.key} ${r.status} ${type}`, schema, r.body);
    if (problem) fail(r, problem);
  }
  return { violations, exercised };
}

/** Every documented `METHOD /template STATUS`. */
function documentedStatuses(document) {
  return operationsOf(document).flatMap(({ key, op }) => Object.keys(op.responses).map((s) => `${key} ${s}`));
}

/**
 * Documented statuses no test exercised, minus the listed unreachable ones; and listed ones that are wrong (not
 * documented, or exercised after all), so the list stays true.
 */
function coverageGaps(document, exercised, unreachable) {
  const documented = documentedStatuses(document);
  const listed = new Map(unreachable.map((u) => [`${u.operation} ${u.status}`, u]));
  const missing = documented.filter((k) => !exercised.has(k) && !listed.has(k));
  const stale = [...listed.keys()].filter((k) => !documented.includes(k) || exercised.has(k));
  return { missing, stale };
}

module.exports = { checkResponses, coverageGaps, documentedStatuses, toJsonSchema };
