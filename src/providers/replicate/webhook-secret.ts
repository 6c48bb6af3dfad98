import { getLogger } from '../../logging';

const log = getLogger('simpletuner.cloud.providers.replicate');

/** At most one fetch of the signing secret per this interval, successful or not. */
const SECRET_REFETCH_INTERVAL_MS = 60_000;

/**
 * Replicate's default webhook signing secret, fetched on first need and kept. Anyone can post to the webhook
 * route, so fetching must not follow the callers: one fetch at a time (callers share it), at most one a minute,
 * and a failure is remembered for that minute (callers get it at once instead of another upstream call).
 */
export class WebhookSecretCache {
  private value: string | null = null;
  private lastAttempt = -Infinity;
  private lastFailure: Error | null = null;
  private inflight: Promise<string> | null = null;

  constructor(
    private readonly fetchSecret: () => Promise<string>,
    private readonly now: () => number = Date.now,
    private readonly intervalMs = SECRET_REFETCH_INTERVAL_MS,
  ) {}

  /** The secret, fetching it only when none is known. */
  get(): Promise<string> {
    return this.value !== null ? Promise.resolve(this.value) : this.fetch();
  }

  /**
   * After a signature mismatch: the secret may have been rotated. Fetches again unless that was done within the
   * interval; resolves to the secret now known (possibly unchanged).
   */
  refresh(): Promise<string> {
    return this.fetch();
  }

  private fetch(): Promise<string> {
    if (this.inflight) return this.inflight;
    if (this.now() - this.lastAttempt < this.intervalMs) {
      if (this.value !== null) return Promise.resolve(this.value);
      return Promise.reject(this.lastFailure ?? new Error('Webhook secret unavailable'));
    }
    this.lastAttempt = this.now();
    this.inflight = this.fetchSecret()
      .then(
        (secret) => {
          this.value = secret;
          this.lastFailure = null;
          return secret;
        },
        (err: unknown) => {
          this.lastFailure = err instanceof Error ? err : new Error(String(err));
          log.warning('Fetching the webhook signing secret from Replicate failed; retrying in a minute at most', {
            error: this.lastFailure.message,
          });
          throw this.lastFailure;
        },
      )
      .finally(() => {
        this.inflight = null;
      });
    return this.inflight;
  }
}
