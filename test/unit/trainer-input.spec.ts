import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ProviderJob } from '../../src/providers';
import { trainerInput } from '../../src/providers/replicate/trainer-input';

/** The inputs SimpleTuner's trainer declares on Replicate (names, JSON types, which are Cog Secrets). */
const declared = JSON.parse(
  fs.readFileSync(path.join(__dirname, '../fixtures/simpletuner-trainer-inputs.json'), 'utf8'),
) as { inputs: Record<string, { type: string; format?: string; secret: boolean }> };

function job(over: Partial<ProviderJob> = {}): ProviderJob {
  return {
    jobId: '2f6c1f7e-0000-4000-8000-000000000001',
    configName: 'portraits',
    config: { model_family: 'flux', learning_rate: 1e-4, lora_rank: 16, output_dir: '/out' },
    hardwareProfile: 'h100',
    externalId: null,
    createdAt: new Date(),
    dataloaderConfig: null,
    lycorisConfig: null,
    dataset: null,
    hubModelId: null,
    maxTrainSteps: null,
    ...over,
  };
}

const full = job({
  dataloaderConfig: [{ id: 'portraits', type: 'local', instance_data_dir: '/data/portraits' }],
  lycorisConfig: { algo: 'lokr', factor: 16 },
  dataset: { url: 'https://example.com/portraits.zip' },
  hubModelId: 'me/portrait-lora',
  maxTrainSteps: 2000,
});
const secrets = { hf_token: 'hf_abc', s3_access_key_id: 'AKIA1', s3_secret_access_key: 'shh' };

describe('the Replicate trainer input of a job', () => {
  it('maps every field to the input the trainer declares, and spreads nothing from config', () => {
    expect(trainerInput(full, secrets)).toEqual({
      config_json: JSON.stringify(full.config),
      dataloader_json: JSON.stringify(full.dataloaderConfig),
      images: 'https://example.com/portraits.zip',
      lycoris_config: JSON.stringify(full.lycorisConfig),
      hub_model_id: 'me/portrait-lora',
      max_train_steps: 2000,
      hf_token: 'hf_abc',
      s3_access_key: 'AKIA1',
      s3_secret_key: 'shh',
      job_id: full.jobId,
    });
  });

  it('sends only inputs the trainer declares, with their declared types (job_id: ours, for reconcile)', () => {
    for (const [name, value] of Object.entries(trainerInput(full, secrets))) {
      if (name === 'job_id') continue;
      const spec = declared.inputs[name];
      expect({ name, declared: spec !== undefined }).toEqual({ name, declared: true });
      const type = Number.isInteger(value) ? 'integer' : typeof value;
      expect({ name, type }).toEqual({ name, type: spec.type });
    }
    // Secrets go only to inputs the trainer treats as secrets.
    for (const name of ['hf_token', 's3_access_key', 's3_secret_key']) expect(declared.inputs[name].secret).toBe(true);
  });

  it('leaves out what the job does not have', () => {
    expect(trainerInput(job())).toEqual({ config_json: JSON.stringify(job().config), job_id: job().jobId });
  });
});
