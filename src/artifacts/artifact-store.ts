import type { Readable } from 'node:stream';

/** Bytes `start` to `end` of an object, both included (as HTTP ranges count). */
export interface ByteRange {
  start: number;
  end: number;
}

/** There is no object under the key (a stored file someone removed by hand, an interrupted delete). */
export class ArtifactMissingError extends Error {
  constructor(key: string) {
    super(`No stored object ${key}`);
    this.name = 'ArtifactMissingError';
  }
}

export interface PutOptions {
  contentType: string;
  signal: AbortSignal;
  /** The size the source announced, when it did. */
  size: number | null;
}

/**
 * Where copied outputs are kept: a folder of the data directory, or an S3-compatible bucket, chosen from the
 * configuration when the app starts. Keys are `<job_id>/<artifact_id>`, made by this module only.
 */
export interface ArtifactStore {
  /** For the log: the folder, or `s3://bucket` and its endpoint. */
  readonly location: string;
  /**
   * Writes `body` whole under `key`, replacing what was there. Nothing readable appears under `key` until the whole
   * body is written, so an interrupted write (an error, an abort, a crash) never leaves a partial file to serve.
   */
  put(key: string, body: Readable, opts: PutOptions): Promise<void>;
  /** The object's bytes, or a range of them; ArtifactMissingError when there is none. */
  read(key: string, range?: ByteRange): Promise<Readable>;
  delete(key: string): Promise<void>;
  /** Every object whose key starts with `prefix` (a job's `<job_id>/`), partial ones included. */
  deleteUnder(prefix: string): Promise<void>;
  close(): Promise<void>;
}

/** The injection token of the app's store. */
export const ARTIFACT_STORE = Symbol('ArtifactStore');
