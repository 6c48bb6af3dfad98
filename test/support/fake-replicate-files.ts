import { createHash, randomBytes } from 'node:crypto';
import type * as http from 'node:http';
import busboy from 'busboy';

/** A file the fake's files API holds: what it received, never the bytes themselves (only their digest). */
export interface FakeFile {
  id: string;
  name: string;
  content_type: string;
  size: number;
  /** sha256 of the `content` part's bytes, hex. */
  sha256: string;
  metadata: unknown;
  created_at: string;
  expires_at: string;
}

/**
 * Replicate's files API in the fake: `POST /files` (multipart/form-data with a `content` file part, parsed by
 * busboy as it streams in, hashed on the way), `GET /files/:id`, `DELETE /files/:id`. Tests compare what it
 * received (size, sha256) and what was deleted.
 */
export class FakeFiles {
  readonly files = new Map<string, FakeFile>();
  /** Ids deleted through `DELETE /files/:id`, in order (whether or not the file existed). */
  readonly deleted: string[] = [];
  /** Uploads whose body ended before the multipart form was complete (the sender gave up): nothing was kept. */
  incomplete = 0;
  /** How long a new file lives (Replicate keeps uploaded files about a day). */
  lifetimeMs = 24 * 3600 * 1000;

  constructor(private readonly apiUrl: () => string) {}

  reset(): void {
    this.files.clear();
    this.deleted.length = 0;
    this.incomplete = 0;
    this.lifetimeMs = 24 * 3600 * 1000;
  }

  /** Reads one upload to its end: the stored file, or null when the form was incomplete or had no `content`. */
  async receive(req: http.IncomingMessage): Promise<FakeFile | null> {
    let parsed: { name: string; type: string; size: number; sha256: string } | null = null;
    let metadata: unknown = {};
    try {
      await new Promise<void>((resolve, reject) => {
        const form = busboy({ headers: req.headers });
        form.on('file', (field, stream, info) => {
          if (field !== 'content') return void stream.resume();
          const hash = createHash('sha256');
          let size = 0;
          stream.on('data', (chunk: Buffer) => {
            hash.update(chunk);
            size += chunk.length;
          });
          stream.on('end', () => {
            parsed = { name: info.filename ?? '', type: info.mimeType, size, sha256: hash.digest('hex') };
          });
        });
        form.on('field', (field, value) => {
          if (field !== 'metadata') return;
          try {
            metadata = JSON.parse(value);
          } catch {
            metadata = value;
          }
        });
        form.on('close', resolve);
        form.on('error', reject);
        req.on('aborted', () => reject(new Error('aborted')));
        req.on('error', reject);
        req.pipe(form);
      });
    } catch {
      this.incomplete++;
      return null;
    }
    if (!parsed) return null;
    return this.store(parsed, metadata);
  }

  private store(p: { name: string; type: string; size: number; sha256: string }, metadata: unknown): FakeFile {
    const now = Date.now();
    const file: FakeFile = {
      id: randomBytes(12).toString('hex'),
      name: p.name,
      content_type: p.type,
      size: p.size,
      sha256: p.sha256,
      metadata,
      created_at: new Date(now).toISOString(),
      expires_at: new Date(now + this.lifetimeMs).toISOString(),
    };
    this.files.set(file.id, file);
    return file;
  }

  /** `GET /files/:id` and `DELETE /files/:id`; null for any other request. */
  route(method: string, path: string): [number, unknown] | null {
    const m = /^\/files\/([^/]+)$/.exec(path);
    if (!m) return null;
    const id = decodeURIComponent(m[1]);
    const file = this.files.get(id);
    if (method === 'GET') return file ? [200, this.view(file)] : [404, { detail: 'Not found.' }];
    if (method === 'DELETE') {
      this.deleted.push(id);
      if (!file) return [404, { detail: 'Not found.' }];
      this.files.delete(id);
      return [204, undefined];
    }
    return null;
  }

  /** The file object Replicate answers with. */
  view(f: FakeFile) {
    return {
      id: f.id,
      name: f.name,
      content_type: f.content_type,
      size: f.size,
      etag: f.sha256.slice(0, 32),
      checksums: { sha256: f.sha256 },
      metadata: f.metadata,
      created_at: f.created_at,
      expires_at: f.expires_at,
      urls: { get: `${this.apiUrl()}/files/${f.id}` },
    };
  }
}
