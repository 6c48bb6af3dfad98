import type { ComponentChildren } from 'preact';
import type { User } from '../api-types';
import { describedBy, Field, LITERAL_INPUT } from '../ui/field';
import { defaultPriority, maxPriority, type FieldErrors, type JobForm } from './new-job-checks';

interface FieldsProps {
  form: JobForm;
  errors: FieldErrors;
  onChange: (patch: Partial<JobForm>) => void;
}

const CONFIG_EXAMPLE =
  '{\n  "model_family": "flux",\n  "model_type": "lora",\n  "lora_rank": 16,\n  "learning_rate": 0.0001\n}';
const DATALOADER_EXAMPLE =
  '[\n  {\n    "id": "portraits",\n    "type": "local",\n    "instance_data_dir": "/data/portraits",\n    "caption_strategy": "filename",\n    "resolution": 1024\n  }\n]';

const valueOf = (e: Event) => (e.target as HTMLInputElement | HTMLTextAreaElement).value;

/** What is trained: the run's name, SimpleTuner's config and dataloader, and (as children) the hardware. */
export function TrainingFields({ form, errors, onChange, children }: FieldsProps & { children: ComponentChildren }) {
  return (
    <>
      <Field
        id="config-name"
        label="Config name"
        hint="How the run is listed, e.g. portrait-lora."
        error={errors.configName}
      >
        <input
          {...describedBy('config-name', true, errors.configName)}
          type="text"
          maxLength={200}
          value={form.configName}
          onInput={(e) => onChange({ configName: valueOf(e) })}
        />
      </Field>
      {children}
      <Field
        id="config-json"
        wide
        label="Config JSON"
        hint="SimpleTuner’s config.json, as a JSON object. Credentials never go here."
        error={errors.config}
      >
        <textarea
          {...describedBy('config-json', true, errors.config)}
          {...LITERAL_INPUT}
          rows={8}
          placeholder={CONFIG_EXAMPLE}
          value={form.config}
          onInput={(e) => onChange({ config: valueOf(e) })}
        />
      </Field>
      <Field
        id="dataloader-json"
        wide
        label="Dataloader JSON"
        hint="SimpleTuner’s multidatabackend list: a JSON array of up to 64 objects. Optional."
        error={errors.dataloader}
      >
        <textarea
          {...describedBy('dataloader-json', true, errors.dataloader)}
          {...LITERAL_INPUT}
          rows={8}
          placeholder={DATALOADER_EXAMPLE}
          value={form.dataloader}
          onInput={(e) => onChange({ dataloader: valueOf(e) })}
        />
      </Field>
    </>
  );
}

/** How the run goes: where it is published, how long it trains, its place in the queue and its Hugging Face token. */
export function RunFields({ form, errors, onChange, me }: FieldsProps & { me: User }) {
  const max = maxPriority(me);
  const priorityHint = `0–${max}; empty means your level’s default, ${defaultPriority(me)}. Higher runs first${
    me.level === 'researcher' ? '; above this needs a lead or admin' : ''
  }.`;
  return (
    <>
      <Field
        id="hub-model-id"
        label="Hub model id"
        hint="owner/name on the Hugging Face Hub, where the trained model is published. Optional."
        error={errors.hubModelId}
      >
        <input
          {...describedBy('hub-model-id', true, errors.hubModelId)}
          {...LITERAL_INPUT}
          type="text"
          placeholder="my-org/portrait-lora"
          value={form.hubModelId}
          onInput={(e) => onChange({ hubModelId: valueOf(e) })}
        />
      </Field>
      <Field
        id="max-train-steps"
        label="Max train steps"
        hint="Training stops after this many steps. Optional."
        error={errors.maxTrainSteps}
      >
        <input
          {...describedBy('max-train-steps', true, errors.maxTrainSteps)}
          type="number"
          inputMode="numeric"
          min={1}
          step={1}
          value={form.maxTrainSteps}
          onInput={(e) => onChange({ maxTrainSteps: valueOf(e) })}
        />
      </Field>
      <Field id="priority" label="Priority" hint={priorityHint} error={errors.priority}>
        <input
          {...describedBy('priority', true, errors.priority)}
          type="number"
          inputMode="numeric"
          min={0}
          max={max}
          step={1}
          placeholder={`${defaultPriority(me)} (default)`}
          value={form.priority}
          onInput={(e) => onChange({ priority: valueOf(e) })}
        />
      </Field>
      <Field
        id="hf-token"
        label="HF token"
        hint="A Hugging Face token, for gated models and publishing. Sent with this job only and stored encrypted until it ends; this page keeps it nowhere."
        error={errors.hfToken}
      >
        <input
          {...describedBy('hf-token', true, errors.hfToken)}
          {...LITERAL_INPUT}
          type="password"
          placeholder="hf_…"
          value={form.hfToken}
          onInput={(e) => onChange({ hfToken: valueOf(e) })}
        />
      </Field>
    </>
  );
}
