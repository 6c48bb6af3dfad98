import 'reflect-metadata';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';
import { loadAppConfig } from './config';
import { buildOpenApiDocument } from './api-docs';

/** The committed document: `<repo>/openapi.json`, from src/openapi (ts) or dist/src/openapi (build). */
export function documentFile(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return path.join(dir, 'openapi.json');
}

/** The document as committed: two-space JSON and a final newline. */
export const serializeDocument = (document: object): string => `${JSON.stringify(document, null, 2)}\n`;

/**
 * `npm run openapi`: writes the document to openapi.json. The app is built in preview mode, which resolves the
 * modules and controllers without instantiating providers: no database, no port, no background task.
 */
async function main(): Promise<void> {
  const config = loadAppConfig({ SIMPLETUNER_ENTERPRISE_CONFIG: '' }, process.cwd());
  const app = await NestFactory.create(
    AppModule.forRoot({ config, database: { kind: 'postgres', url: 'postgres://unused/openapi', poolSize: 1 } }),
    { preview: true, logger: false, abortOnError: false },
  );
  const file = documentFile();
  fs.writeFileSync(file, serializeDocument(buildOpenApiDocument(app)));
  await app.close();
  process.stdout.write(`Wrote ${path.relative(process.cwd(), file)}\n`);
}

if (require.main === module) void main();
