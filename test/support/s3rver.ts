import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { captureOutput } from './test-logs';

/** s3rver's own keys: it checks signatures against them. */
const CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface S3Server {
  endpoint: string;
  bucket: string;
  /** The app's settings for this server. */
  env: Record<string, string>;
  /** A client of its own, to look at the bucket as a user of it would. */
  client: S3Client;
  keys(prefix?: string): Promise<string[]>;
  object(key: string): Promise<Buffer>;
  stop(): Promise<void>;
}

/** A real S3-compatible server (s3rver) on 127.0.0.1 in a child process, with one empty bucket. */
export async function startS3rver(bucket = 'artifacts'): Promise<S3Server> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'st-s3rver-'));
  const child = spawn(process.execPath, [path.join(__dirname, 's3rver-server.js'), dir, bucket], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  captureOutput(child.stderr, `[s3rver ${child.pid}]`);
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    void exited.then(() => reject(new Error(`s3rver exited before listening: ${out}`)));
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: CREDENTIALS,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return {
    endpoint,
    bucket,
    env: {
      SIMPLETUNER_ARTIFACT_S3_BUCKET: bucket,
      SIMPLETUNER_ARTIFACT_S3_ENDPOINT: endpoint,
      AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    },
    client,
    async keys(prefix) {
      const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
      return (page.Contents ?? []).map((o) => o.Key!).sort();
    },
    async object(key) {
      const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return Buffer.from(await out.Body!.transformToByteArray());
    },
    async stop() {
      client.destroy();
      child.stdin.end();
      await exited;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
