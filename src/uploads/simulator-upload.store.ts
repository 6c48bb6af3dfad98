import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import type { Clock } from '../common/clock';
import { FileToStore, StoredFile, UploadStore } from './upload-store';

/** How long the simulator keeps an upload, like a provider's files API. */
const LIFETIME_MS = 24 * 3600 * 1000;

/**
 * The simulator's files: `<data dir>/uploads/<upload id>`. Written under a `.part` name and renamed once whole, so
 * the folder never holds a file that did not arrive whole (a failed write removes its part).
 */
export class SimulatorUploadStore implements UploadStore {
  readonly provider = 'simulator';
  private readonly dir: string;

  constructor(
    dataDir: string,
    private readonly clock: Clock,
  ) {
    this.dir = path.join(dataDir, 'uploads');
  }

  available(): boolean {
    return true;
  }

  async put(content: Readable, file: FileToStore): Promise<StoredFile> {
    await fs.promises.mkdir(this.dir, { recursive: true, mode: 0o700 });
    const final = this.pathOf(file.id);
    const part = `${final}.part`;
    try {
      await pipeline(content, fs.createWriteStream(part, { flags: 'wx', mode: 0o600 }));
      await fs.promises.rename(part, final);
    } catch (err) {
      await fs.promises.rm(part, { force: true });
      throw err;
    }
    const now = this.clock.now();
    return {
      externalId: file.id,
      url: pathToFileURL(final).href,
      createdAt: now,
      expiresAt: new Date(now.getTime() + LIFETIME_MS),
      sha256: null,
    };
  }

  async remove(externalId: string): Promise<void> {
    await fs.promises.rm(this.pathOf(externalId), { force: true });
  }

  /** Only an upload id (a UUID) names a file here: nothing else can reach outside the folder. */
  private pathOf(id: string): string {
    if (!/^[0-9a-f-]{36}$/i.test(id)) throw new Error(`not an upload id: ${id}`);
    return path.join(this.dir, id);
  }
}
