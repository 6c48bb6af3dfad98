import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ArtifactMissingError, type ArtifactStore, type ByteRange, type PutOptions } from './artifact-store';

/** Keys are this module's own `<uuid>/<uuid>`: anything else is a bug, never a path to follow. */
const KEY = /^[0-9a-f-]{36}\/([0-9a-f-]{36})?$/;

/**
 * The default store: files under `<data dir>/artifacts/<job_id>/<artifact_id>`. A copy is written to
 * `<artifact_id>.partial` (flushed to disk before it is closed) and renamed into place once complete.
 */
export class LocalArtifactStore implements ArtifactStore {
  constructor(private readonly root: string) {
    fs.mkdirSync(root, { recursive: true });
  }

  get location(): string {
    return this.root;
  }

  async put(key: string, body: Readable, opts: PutOptions): Promise<void> {
    const file = this.path(key);
    const partial = `${file}.partial`;
    await fs.promises.mkdir(path.dirname(file), { recursive: true });
    try {
      await pipeline(body, fs.createWriteStream(partial, { flush: true }), { signal: opts.signal });
      await fs.promises.rename(partial, file);
    } catch (err) {
      await fs.promises.rm(partial, { force: true });
      throw err;
    }
  }

  async read(key: string, range?: ByteRange): Promise<Readable> {
    let handle: fs.promises.FileHandle;
    try {
      handle = await fs.promises.open(this.path(key), 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ArtifactMissingError(key);
      throw err;
    }
    return handle.createReadStream(range ? { start: range.start, end: range.end } : {});
  }

  async delete(key: string): Promise<void> {
    await fs.promises.rm(this.path(key), { force: true });
  }

  async deleteUnder(prefix: string): Promise<void> {
    await fs.promises.rm(this.path(prefix), { recursive: true, force: true });
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  private path(key: string): string {
    if (!KEY.test(key)) throw new Error(`Not an artifact key: ${JSON.stringify(key)}`);
    return path.join(this.root, ...key.split('/').filter(Boolean));
  }
}
