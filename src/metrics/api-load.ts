import { Injectable } from '@nestjs/common';

const BUCKET_MS = 100;
const BUCKETS = 10;
/** Under load: this many requests in the last second... */
const BUSY_REQUESTS_PER_SECOND = 20;
/** ...while the event loop was busy at least this share of the time (a client polling slowly is not load). */
const BUSY_UTILIZATION = 0.5;
/** The event loop's utilization is sampled at most this often. */
const SAMPLE_MS = 250;

/**
 * How many requests this instance's API began in the last second, counted in ten 100 ms buckets (no timer, no
 * allocation per request). Background work that shares the process (notification sending) reads it to yield to
 * the people waiting on an answer.
 */
@Injectable()
export class ApiLoad {
  private readonly counts = new Uint32Array(BUCKETS);
  /** The bucket number (time / 100 ms) each slot last counted for. */
  private readonly slots = new Float64Array(BUCKETS).fill(-1);
  private elu = performance.eventLoopUtilization();
  private sampledAt = performance.now();
  private utilization = 0;

  began(now = performance.now()): void {
    const bucket = Math.floor(now / BUCKET_MS);
    const i = bucket % BUCKETS;
    if (this.slots[i] !== bucket) {
      this.slots[i] = bucket;
      this.counts[i] = 0;
    }
    this.counts[i]++;
  }

  /** Requests begun in the last second (the current 100 ms bucket and the nine before it). */
  lastSecond(now = performance.now()): number {
    const bucket = Math.floor(now / BUCKET_MS);
    let n = 0;
    for (let i = 0; i < BUCKETS; i++) if (bucket - this.slots[i] < BUCKETS) n += this.counts[i];
    return n;
  }

  /**
   * Whether the API is under load now: at least 20 requests began in the last second and the event loop was busy at
   * least half of the time since the previous look (sampled at most every 250 ms).
   */
  busy(now = performance.now()): boolean {
    if (now - this.sampledAt >= SAMPLE_MS) {
      this.utilization = performance.eventLoopUtilization(this.elu).utilization;
      this.elu = performance.eventLoopUtilization();
      this.sampledAt = now;
    }
    return this.lastSecond(now) >= BUSY_REQUESTS_PER_SECOND && this.utilization >= BUSY_UTILIZATION;
  }
}
