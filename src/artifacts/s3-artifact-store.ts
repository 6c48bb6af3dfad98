import type { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { ArtifactMissingError, type ArtifactStore, type ByteRange, type PutOptions } from './artifact-store';

export interface S3StoreSettings {
  bucket: string;
  /** An S3-compatible server (MinIO, R2, …); unset: AWS S3 of `region`. */
  endpoint?: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

/** S3's smallest part; 4 parts in flight bound the memory a copy holds (about 20 MiB) whatever the file's size. */
const MIN_PART = 5 * 1024 * 1024;
const PARTS_IN_FLIGHT = 4;
/** S3 allows 10,000 parts: a known size larger than 5 MiB × 9,000 gets larger parts. */
const MAX_PARTS = 9000;

/**
 * Objects in an S3-compatible bucket, uploaded as multipart streams (lib-storage): an object appears only when its
 * upload completes, and a failed or aborted upload is aborted at the server (its parts dropped). An upload cut off by
 * a crash stays invisible; a bucket lifecycle rule (AbortIncompleteMultipartUpload) clears its parts.
 */
export class S3ArtifactStore implements ArtifactStore {
  private readonly client: S3Client;

  constructor(private readonly settings: S3StoreSettings) {
    this.client = new S3Client({
      region: settings.region,
      endpoint: settings.endpoint,
      // S3-compatible servers are commonly addressed by path (no bucket subdomain to resolve).
      forcePathStyle: Boolean(settings.endpoint),
      credentials: settings.credentials,
      // The SDK's default extra checksums use a chunked upload encoding that many S3-compatible servers refuse;
      // integrity is ours to check anyway (sha256 of what was read, in the row).
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  get location(): string {
    return `s3://${this.settings.bucket}${this.settings.endpoint ? ` at ${this.settings.endpoint}` : ''}`;
  }

  async put(key: string, body: Readable, opts: PutOptions): Promise<void> {
    const partSize = Math.max(MIN_PART, Math.ceil((opts.size ?? 0) / MAX_PARTS));
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.settings.bucket, Key: key, Body: body, ContentType: opts.contentType },
      queueSize: PARTS_IN_FLIGHT,
      partSize,
      leavePartsOnError: false,
    });
    const abort = () => void upload.abort().catch(() => undefined);
    if (opts.signal.aborted) abort();
    opts.signal.addEventListener('abort', abort, { once: true });
    try {
      await upload.done();
    } finally {
      opts.signal.removeEventListener('abort', abort);
    }
  }

  async read(key: string, range?: ByteRange): Promise<Readable> {
    try {
      const out = await this.client.send(
        new GetObjectCommand({
          Bucket: this.settings.bucket,
          Key: key,
          Range: range ? `bytes=${range.start}-${range.end}` : undefined,
        }),
      );
      return out.Body as Readable;
    } catch (err) {
      if (err instanceof S3ServiceException && (err.name === 'NoSuchKey' || err.$metadata.httpStatusCode === 404)) {
        throw new ArtifactMissingError(key);
      }
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.settings.bucket, Key: key }));
  }

  async deleteUnder(prefix: string): Promise<void> {
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.settings.bucket, Prefix: prefix, ContinuationToken: token }),
      );
      const keys = (page.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
      if (keys.length > 0) {
        await this.client.send(
          new DeleteObjectsCommand({ Bucket: this.settings.bucket, Delete: { Objects: keys, Quiet: true } }),
        );
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  close(): Promise<void> {
    this.client.destroy();
    return Promise.resolve();
  }
}
