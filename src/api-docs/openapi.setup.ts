import type { NextFunction, Request, Response } from 'express';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { SwaggerModule } from '@nestjs/swagger';
import { errorBody } from '../common/error-body';
import { buildOpenApiDocument } from './openapi.document';
import { DOCS_PATH, OPENAPI_JSON_PATH } from './openapi-paths';

/**
 * The reference page runs Swagger UI's own script and styles from node_modules and calls only this service. Its
 * page carries inline `<style>` blocks and its icons are data: URIs, hence those two allowances.
 */
const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * Swagger UI's start script embeds the document with `String.prototype.replace`, which reads `$&`, `` $` ``, `$'`
 * and `$$` in it as replacement patterns (a pattern such as `^[a-z]+$` followed by a backtick would corrupt the
 * script). Doubling every `$` makes each one come out as itself.
 */
function escapeReplacementPatterns<T>(document: T): T {
  return JSON.parse(JSON.stringify(document).replace(/\$/g, '$$$$')) as T;
}

/**
 * What the reference page loads, relative to the docs path: the page, its start script, Swagger UI's bundle,
 * preset and styles, and the two icons. Swagger's module would serve the whole `swagger-ui-dist` folder (its
 * package.json, source maps, other bundles): anything else is a 404.
 */
const DOCS_FILES = new Set([
  '/',
  '/index.html',
  '/swagger-ui-init.js',
  '/swagger-ui-bundle.js',
  '/swagger-ui-standalone-preset.js',
  '/swagger-ui.css',
  '/favicon-32x32.png',
  '/favicon-16x16.png',
]);

function docsHeaders(req: Request, res: Response, next: NextFunction): void {
  if (!DOCS_FILES.has(req.path)) {
    res.status(404).json(errorBody('not_found', `Cannot ${req.method} ${req.originalUrl.split('?')[0]}`));
    return;
  }
  res.setHeader('Content-Security-Policy', DOCS_CSP);
  next();
}

/**
 * `GET /api/openapi.json` (the document) and `GET /api/docs` (Swagger UI), both without a key, like /health. The
 * document is built once, on first request, from the app's controllers and DTOs.
 */
export function setupOpenApi(app: NestExpressApplication): void {
  app.use(DOCS_PATH, docsHeaders);
  SwaggerModule.setup(DOCS_PATH, app, () => buildOpenApiDocument(app), {
    jsonDocumentUrl: OPENAPI_JSON_PATH,
    raw: ['json'],
    patchDocumentOnRequest: (req, _res, document) =>
      (req as Request).path.endsWith('/swagger-ui-init.js') ? escapeReplacementPatterns(document) : document,
    customSiteTitle: 'SimpleTuner Cloud API',
    swaggerOptions: {
      // Swagger UI would otherwise send the document to validator.swagger.io for its badge.
      validatorUrl: null,
      persistAuthorization: false,
      displayOperationId: false,
      tryItOutEnabled: false,
    },
  });
}
