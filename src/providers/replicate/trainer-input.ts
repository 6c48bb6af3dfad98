import type { JobSecrets, ProviderJob } from '../provider.interface';

/**
 * The prediction input of SimpleTuner's trainer on Replicate (`simpletuner/advanced-trainer-<profile>`, its Cog
 * `predict.py`), built from a job. Cog drops inputs a model does not declare, so only declared inputs carry meaning;
 * nothing is spread from `config`. README "Submitting a training job" has this table.
 *
 * | job                              | trainer input          |
 * | -------------------------------- | ---------------------- |
 * | `config` (JSON)                  | `config_json`          |
 * | `dataloader_config` (JSON)       | `dataloader_json`      |
 * | `dataset.url`                    | `images`               |
 * | `lycoris_config` (JSON)          | `lycoris_config`       |
 * | `hub_model_id`                   | `hub_model_id`         |
 * | `max_train_steps`                | `max_train_steps`      |
 * | secret `hf_token`                | `hf_token`             |
 * | secret `s3_access_key_id`        | `s3_access_key`        |
 * | secret `s3_secret_access_key`    | `s3_secret_key`        |
 * | `job_id`                         | `job_id` (ours: finds a prediction whose create outcome is unknown) |
 */
export function trainerInput(job: ProviderJob, secrets: JobSecrets = {}): Record<string, unknown> {
  const input: Record<string, unknown> = { config_json: JSON.stringify(job.config) };
  if (job.dataloaderConfig) input.dataloader_json = JSON.stringify(job.dataloaderConfig);
  if (job.dataset) input.images = job.dataset.url;
  if (job.lycorisConfig) input.lycoris_config = JSON.stringify(job.lycorisConfig);
  if (job.hubModelId) input.hub_model_id = job.hubModelId;
  if (typeof job.maxTrainSteps === 'number') input.max_train_steps = job.maxTrainSteps;
  if (secrets.hf_token) input.hf_token = secrets.hf_token;
  if (secrets.s3_access_key_id) input.s3_access_key = secrets.s3_access_key_id;
  if (secrets.s3_secret_access_key) input.s3_secret_key = secrets.s3_secret_access_key;
  input.job_id = job.jobId;
  return input;
}
