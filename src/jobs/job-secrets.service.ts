import { Injectable } from '@nestjs/common';
import { ValidationError } from '../common/errors';
import type { WritePart } from '../database/combined-write';
import type { JobSecrets, SecretName } from '../providers';
import { SecretBox } from '../secrets';
import { JobSecretsRepository } from './job-secrets.repository';
import type { EndedJob } from './pipeline/steps';

/**
 * A job's secrets (a Hugging Face token, S3 credentials): sealed when it is submitted, opened only to dispatch it,
 * deleted when it ends. Their names stay on the job; their values never reach a response, an event or a log line.
 */
@Injectable()
export class JobSecretsService {
  constructor(
    private readonly box: SecretBox,
    private readonly repo: JobSecretsRepository,
  ) {}

  /** 400 naming the setting when secrets were given and the service has no key to seal them with. */
  assertCanStore(secrets: JobSecrets | undefined): void {
    if (!secrets || Object.keys(secrets).length === 0 || this.box.canSeal) return;
    throw new ValidationError('Secrets cannot be stored: SIMPLETUNER_SECRET_KEY is not set on this service', {
      secrets: 'the service has no SIMPLETUNER_SECRET_KEY to encrypt them with',
    });
  }

  /** The sealed values, as a part of the submit's statement (null when there are none). */
  sealPart(jobId: string, secrets: JobSecrets | undefined): WritePart | null {
    const entries = Object.entries(secrets ?? {}).filter(([, v]) => typeof v === 'string');
    if (entries.length === 0) return null;
    return this.repo.insertPart(
      jobId,
      entries.map(([name, value]) => ({ name, value: this.box.seal(value) })),
    );
  }

  /** The values, opened for a provider call (dispatch). */
  async open(jobId: string): Promise<JobSecrets> {
    const rows = await this.repo.read(jobId);
    return Object.fromEntries(rows.map((r) => [r.name as SecretName, this.box.open(r.value)]));
  }

  /** A step of the job-ended pipeline: an ended job's secrets are deleted with its end. */
  async forget(ended: EndedJob[]): Promise<void> {
    const withSecrets = ended.filter(({ job }) => job.secretNames.length > 0).map(({ job }) => job.jobId);
    if (withSecrets.length > 0) await this.repo.deleteFor(withSecrets);
  }
}
