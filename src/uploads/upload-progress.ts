import type { EventsService } from '../events';
import { getLogger } from '../logging';

const log = getLogger('simpletuner.cloud.uploads');

/** Two events a second at most: any one-second window holds no more than two. */
const MIN_GAP_MS = 500;

/**
 * The `upload_progress` events of one upload, to its uploader's streams: the first at the first bytes, then at most
 * one per half second, however many chunks arrive. Each is stored off the byte path (the body never waits for the
 * event log), one at a time: while one is being stored no other starts, so a slow database delays the next event
 * rather than bunching events up. `settled()` waits for the last of them.
 */
export class UploadProgress {
  private lastAt = -Infinity;
  private publishing: Promise<unknown> | null = null;

  constructor(
    private readonly events: EventsService,
    private readonly userId: string,
    private readonly uploadId: string,
    private readonly totalBytes: number | null,
  ) {}

  received(bytes: number): void {
    const now = performance.now();
    if (this.publishing || now - this.lastAt < MIN_GAP_MS) return;
    this.lastAt = now;
    const data = { upload_id: this.uploadId, bytes_received: bytes, total_bytes: this.totalBytes };
    this.publishing = this.events
      .publish({ type: 'upload_progress', userId: this.userId, data })
      .catch((error: unknown) => log.warning('Could not publish upload progress', { upload_id: this.uploadId, error }))
      .finally(() => (this.publishing = null));
  }

  async settled(): Promise<void> {
    await this.publishing;
  }
}
