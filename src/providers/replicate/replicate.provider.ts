import { forEachLimit } from '../../common/concurrency';
import { getLogger } from '../../logging';
import { replicateModelFor } from '../hardware';
import { predictionStatus } from '../prediction-status';
import type { ProviderConfigService } from '../provider-config.service';
import type { ProviderCredentialsService } from '../provider-credentials.service';
import { ProviderCallError, ProviderJobState, ProviderSubmission, TrainingProvider } from '../provider.interface';
import type { JobSecrets, ProviderJob } from '../provider.interface';
import { trainerInput } from './trainer-input';
import type { ReplicateClient } from './replicate.client';
import type { ReplicatePrediction } from './replicate.types';
import { outputUrls } from '../output-urls';
import { WebhookSecretCache } from './webhook-secret';

const log = getLogger('simpletuner.cloud.providers.replicate');

const date = (v: string | null | undefined): Date | null => (v ? new Date(v) : null);

function firstUrl(output: unknown): string | null {
  if (typeof output === 'string') return output;
  if (Array.isArray(output)) return output.find((o): o is string => typeof o === 'string') ?? null;
  return null;
}

/** PostgreSQL text refuses NUL: whatever the provider sends is stored without it. */
const withoutNul = <T extends string | null>(s: T): T => (s === null ? s : (s.replace(/\0/g, '') as T));

export function predictionToState(p: ReplicatePrediction): ProviderJobState {
  const jobId = p.input && typeof p.input.job_id === 'string' ? p.input.job_id : null;
  const error =
    p.error === null || p.error === undefined ? null : typeof p.error === 'string' ? p.error : JSON.stringify(p.error);
  return {
    externalId: withoutNul(p.id),
    status: predictionStatus(p.status),
    rawStatus: withoutNul(p.status),
    error: withoutNul(error),
    outputUrl: withoutNul(firstUrl(p.output)),
    outputUrls: outputUrls(p.output),
    logsUrl: withoutNul(p.urls?.stream ?? p.urls?.get ?? null),
    logs: typeof p.logs === 'string' ? withoutNul(p.logs) : null,
    predictTimeSeconds: typeof p.metrics?.predict_time === 'number' ? p.metrics.predict_time : null,
    startedAt: date(p.started_at),
    completedAt: date(p.completed_at),
    jobId: withoutNul(jobId),
  };
}

export interface ReplicateProviderOptions {
  /** Predictions fetched one by one concurrently after paging (bounded). */
  getConcurrency?: number;
  /** A sync stops paging after this many pages even if jobs are missing (they are then fetched singly). */
  maxListPages?: number;
}

/** Replicate: one prediction per job, our job_id in its input (so an unknown create outcome can be found). */
export class ReplicateProvider implements TrainingProvider {
  readonly name = 'replicate';
  private readonly versions = new Map<string, string>();
  private readonly defaultSecret: WebhookSecretCache;
  /** Whether a token is in force (stored or from the environment), kept current as the credentials change. */
  private configured: boolean;

  constructor(
    readonly client: ReplicateClient,
    private readonly configs: ProviderConfigService,
    private readonly credentials: ProviderCredentialsService,
    envToken: string | undefined,
    private readonly opts: ReplicateProviderOptions = {},
  ) {
    this.defaultSecret = new WebhookSecretCache(() => this.client.getDefaultWebhookSecret());
    this.configured = Boolean(envToken);
    // A token set or deleted through the API, on this instance or another, applies without a restart.
    configs.watch(this.name, () => void this.refreshCredentials());
  }

  isConfigured(): boolean {
    return this.configured;
  }

  /** The token in force now (read before every call by the client), refreshing isConfigured on the way. */
  async token(): Promise<string | undefined> {
    const { token } = await this.credentials.token(this.name);
    this.configured = Boolean(token);
    return token;
  }

  async refreshCredentials(): Promise<void> {
    try {
      await this.token();
    } catch (err) {
      log.error('Reading the Replicate credentials failed', { error: err });
    }
  }

  async submit(job: ProviderJob, secrets?: JobSecrets): Promise<ProviderSubmission> {
    const config = await this.configs.get(this.name);
    const version = config.versionOverride ?? (await this.latestVersion(job.hardwareProfile));
    const input = trainerInput(job, secrets);
    const prediction = await this.client.createPrediction({
      version,
      input,
      ...(config.webhookUrl ? { webhook: config.webhookUrl, webhook_events_filter: ['start', 'completed'] } : {}),
    });
    return { externalId: prediction.id, status: predictionStatus(prediction.status) ?? 'queued', raw: prediction };
  }

  async get(externalId: string): Promise<ProviderJobState | null> {
    const p = await this.client.getPrediction(externalId);
    return p ? predictionToState(p) : null;
  }

  cancel(externalId: string): Promise<void> {
    return this.client.cancelPrediction(externalId);
  }

  /** Pages newest first until predictions are older than `since` (inputs vanish after an hour: call promptly). */
  async findByJobId(jobId: string, since: Date): Promise<ProviderJobState | null> {
    let cursor: string | null = null;
    for (let page = 0; page < (this.opts.maxListPages ?? 10); page++) {
      const { results, next } = await this.client.listPredictions(cursor);
      const hit = results.find((p) => p.input?.job_id === jobId);
      if (hit) return predictionToState(hit);
      const oldest = results[results.length - 1];
      if (!next || (oldest?.created_at && new Date(oldest.created_at) < since)) return null;
      cursor = next;
    }
    return null;
  }

  /**
   * Few calls for many jobs: list pages until every wanted prediction was seen or the pages reach
   * predictions older than the oldest job, then get the rest one by one with bounded concurrency.
   */
  async syncMany(jobs: ProviderJob[]): Promise<Map<string, ProviderJobState | null>> {
    const wanted = new Set(jobs.map((j) => j.externalId).filter((id): id is string => Boolean(id)));
    const found = new Map<string, ProviderJobState | null>();
    if (wanted.size === 0) return found;
    // A minute of slack for clock skew between us and the provider.
    const oldest = Math.min(...jobs.map((j) => j.createdAt.getTime())) - 60_000;
    let cursor: string | null = null;
    let pages = 0;
    while (found.size < wanted.size && pages < (this.opts.maxListPages ?? 10)) {
      const { results, next } = await this.client.listPredictions(cursor);
      pages++;
      for (const p of results) {
        // A success listed without its output would lose the job's files: read it once in full (below).
        if (wanted.has(p.id) && !(p.status === 'succeeded' && p.output === undefined))
          found.set(p.id, predictionToState(p));
      }
      const last = results[results.length - 1];
      if (!next || !last || (last.created_at && new Date(last.created_at).getTime() < oldest)) break;
      cursor = next;
    }
    // A finished prediction listed without its metrics would leave the job unpriced: read it once in full.
    const unpriced = [...found.values()].filter(
      (st) =>
        st && st.status && ['completed', 'failed', 'cancelled'].includes(st.status) && st.predictTimeSeconds == null,
    );
    for (const st of unpriced) found.delete(st!.externalId);
    const missing = [...wanted].filter((id) => !found.has(id));
    const errors: unknown[] = [];
    await forEachLimit(missing, this.opts.getConcurrency ?? 8, async (id) => {
      try {
        found.set(id, await this.get(id));
      } catch (err) {
        // Left out of the map: the caller logs `Failed to sync job X` and keeps the job as it is.
        errors.push(err);
      }
    });
    log.debug(`Replicate sync: ${pages} list pages, ${missing.length} single gets`, {
      list_pages: pages,
      single_gets: missing.length,
      failed_gets: errors.length,
    });
    return found;
  }

  /**
   * The webhook signing secrets: the provider config's when set (with the one a rotation replaced, during its
   * overlap), else Replicate's default (fetched once and kept; see WebhookSecretCache). `rotated` asks again after
   * a mismatch, at most once a minute. `now` decides whether the overlap is over.
   */
  async webhookSecrets(rotated = false, now?: Date): Promise<{ secrets: string[]; configured: boolean }> {
    const { current, previous } = await this.credentials.webhookSecrets(this.name, now);
    if (current) return { secrets: previous ? [current, previous] : [current], configured: true };
    const secret = await (rotated ? this.defaultSecret.refresh() : this.defaultSecret.get());
    return { secrets: previous ? [secret, previous] : [secret], configured: false };
  }

  private async latestVersion(profile: string): Promise<string> {
    const cached = this.versions.get(profile);
    if (cached) return cached;
    const { owner, name } = replicateModelFor(profile);
    const versions = await this.client.listModelVersions(owner, name);
    if (versions.length === 0) {
      throw new ProviderCallError(`No version of ${owner}/${name} on Replicate`, this.name, { retryable: false });
    }
    this.versions.set(profile, versions[0].id);
    return versions[0].id;
  }
}
