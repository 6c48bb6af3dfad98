/** The statuses a provider reports, in the jobs' vocabulary (before the provider has a job, it is ours alone). */
export type ProviderStatus = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';

/** The dataset archive the trainer downloads: a URL given at submit, or the provider's URL of an upload. */
export interface JobDataset {
  url: string;
  upload_id?: string;
}

/** The secrets a submission may carry, by the names the API takes. */
export const SECRET_NAMES = ['hf_token', 's3_access_key_id', 's3_secret_access_key'] as const;
export type SecretName = (typeof SECRET_NAMES)[number];
/** A job's secret values, opened only to dispatch it. */
export type JobSecrets = Partial<Record<SecretName, string>>;

/** What a provider needs to know of a job; the jobs module's Job has all of it. */
export interface ProviderJob {
  jobId: string;
  configName: string;
  config: Record<string, unknown>;
  hardwareProfile: string;
  /** The trainer's inputs besides its config (null: not given). */
  dataloaderConfig: Record<string, unknown>[] | null;
  lycorisConfig: Record<string, unknown> | null;
  dataset: JobDataset | null;
  hubModelId: string | null;
  maxTrainSteps: number | null;
  /** The provider's id for the job once dispatched. */
  externalId: string | null;
  createdAt: Date;
}

export interface ProviderSubmission {
  externalId: string;
  /** The provider's status mapped to ours (usually `queued`). */
  status: ProviderStatus;
  raw?: unknown;
}

export interface ProviderJobState {
  externalId: string;
  /** null = a status string we do not know: keep the job's current status (and log WARNING). */
  status: ProviderStatus | null;
  rawStatus: string;
  error?: string | null;
  outputUrl?: string | null;
  /** Every http(s) URL of the output (a completed job's files, copied into the artifact store). */
  outputUrls?: string[] | null;
  logsUrl?: string | null;
  /** The run's whole log so far, as the provider returns it (absent when this answer carries none). */
  logs?: string | null;
  costUsd?: number | null;
  /** Billed seconds (Replicate `metrics.predict_time`): the jobs module prices them with the job's own profile. */
  predictTimeSeconds?: number | null;
  startedAt?: Date | null;
  completedAt?: Date | null;
  /** Our job_id as carried in the prediction input, when the provider still has it. */
  jobId?: string | null;
}

/** A training backend. An enterprise module adds one with ProviderRegistry.register() without editing core. */
export interface TrainingProvider {
  readonly name: string;
  /** Throws ProviderCallError. `secrets`: the job's secret values, opened for this call only. */
  submit(job: ProviderJob, secrets?: JobSecrets): Promise<ProviderSubmission>;
  /** null = the provider no longer knows this prediction (404). */
  get(externalId: string): Promise<ProviderJobState | null>;
  /** A 404 means already gone, which is success. */
  cancel(externalId: string): Promise<void>;
  /** Finds the prediction carrying this job_id (reconciles a dispatch whose outcome is unknown). */
  findByJobId(jobId: string, since: Date): Promise<ProviderJobState | null>;
  /** Syncs many jobs in few calls; the map is keyed by externalId (null = unknown to the provider). */
  syncMany?(jobs: ProviderJob[]): Promise<Map<string, ProviderJobState | null>>;
  /** Whether this provider can be used now (credentials present). */
  isConfigured?(): boolean;
}

/** A failed provider call, classified for the dispatcher and the API. */
export class ProviderCallError extends Error {
  constructor(
    message: string,
    readonly provider: string,
    readonly opts: {
      retryable: boolean;
      outcomeUnknown?: boolean;
      status?: number;
      circuitOpen?: boolean;
      cause?: unknown;
    },
  ) {
    super(message, { cause: opts.cause });
    this.name = 'ProviderCallError';
  }

  get retryable(): boolean {
    return this.opts.retryable;
  }

  /** The call may have reached the provider (create timed out after sending): reconcile by job_id, never resend. */
  get outcomeUnknown(): boolean {
    return this.opts.outcomeUnknown ?? false;
  }

  get status(): number | undefined {
    return this.opts.status;
  }

  get circuitOpen(): boolean {
    return this.opts.circuitOpen ?? false;
  }
}
