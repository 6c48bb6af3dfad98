/**
 * The New job form's own checks, run as the user types, and the request they turn into. The page checks only what it
 * must read itself (the JSON of the two text areas), what should never leave the browser (a credential inside a
 * config) and the caller's priority range; every other rule is the API's, and its 400 is shown next to the field.
 */
import type { ApiError } from '../api';
import type { SubmitJobBody, UploadContentType, User } from '../api-types';
import {
  CREDENTIAL_CONFIG_KEYS,
  DEFAULT_PRIORITY_BY_LEVEL,
  MAX_DATALOADER_ENTRIES,
  MAX_SUBMIT_PRIORITY,
} from '../../../src/common/submission-rules';

export interface JobForm {
  configName: string;
  config: string;
  dataloader: string;
  profile: string;
  datasetMode: 'url' | 'upload';
  datasetUrl: string;
  hubModelId: string;
  maxTrainSteps: string;
  priority: string;
  hfToken: string;
}

export type FieldId = Exclude<keyof JobForm, 'datasetMode' | 'datasetUrl'> | 'dataset';
export type FieldErrors = Partial<Record<FieldId, string>>;

export const EMPTY_FORM: JobForm = {
  configName: '',
  config: '',
  dataloader: '',
  profile: '',
  datasetMode: 'upload',
  datasetUrl: '',
  hubModelId: '',
  maxTrainSteps: '',
  priority: '',
  hfToken: '',
};

const HUGGING_FACE_KEYS = new Set(['hf_token', 'huggingface_token', 'hub_token']);

// The service's own rules for a submission (src/common/submission-rules, dependency-free), bundled into the page.
const CREDENTIAL_KEYS = CREDENTIAL_CONFIG_KEYS;
const DEFAULT_PRIORITY = DEFAULT_PRIORITY_BY_LEVEL;
const MAX_PRIORITY = MAX_SUBMIT_PRIORITY;

export const defaultPriority = (me: User): number => DEFAULT_PRIORITY[me.level];
export const maxPriority = (me: User): number =>
  me.level === 'lead' || me.level === 'admin' ? MAX_PRIORITY : DEFAULT_PRIORITY[me.level];

type Parsed = { ok: true; value: unknown } | { ok: false; error: string };

function parseJson(text: string): Parsed {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    return { ok: false, error: `Not valid JSON: ${(err as Error).message}` };
  }
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** The path of the first credential-named key, e.g. `hub.hf_token` or `[0].password`; walked without recursion. */
function credentialPath(root: unknown): { path: string; key: string } | null {
  const stack: Array<[unknown, string]> = [[root, '']];
  while (stack.length > 0) {
    const [value, path] = stack.pop()!;
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push([value[i], `${path}[${i}]`]);
    } else if (value && typeof value === 'object') {
      const entries = Object.entries(value as Record<string, unknown>);
      for (const [k] of entries) {
        if (CREDENTIAL_KEYS.has(k.toLowerCase())) return { path: path ? `${path}.${k}` : k, key: k.toLowerCase() };
      }
      for (let i = entries.length - 1; i >= 0; i--)
        stack.push([entries[i][1], path ? `${path}.${entries[i][0]}` : entries[i][0]]);
    }
  }
  return null;
}

function credentialError(value: unknown): string | undefined {
  const found = credentialPath(value);
  if (!found) return undefined;
  return HUGGING_FACE_KEYS.has(found.key)
    ? `“${found.path}” is a credential: put it in the HF token field (kept encrypted, never in the config)`
    : `“${found.path}” is a credential, which the API refuses in a config: remove it (a Hugging Face token goes in the HF token field)`;
}

function configError(text: string): string | undefined {
  if (text.trim() === '') return 'Required: SimpleTuner’s config.json as a JSON object ({} for none)';
  const parsed = parseJson(text);
  if (!parsed.ok) return parsed.error;
  if (kindOf(parsed.value) !== 'an object') return `Must be a JSON object ({…}), not ${kindOf(parsed.value)}`;
  return credentialError(parsed.value);
}

function dataloaderError(text: string): string | undefined {
  if (text.trim() === '') return undefined;
  const parsed = parseJson(text);
  if (!parsed.ok) return parsed.error;
  const list = parsed.value;
  if (!Array.isArray(list)) return `Must be a JSON array of objects ([{…}, …]), not ${kindOf(list)}`;
  if (list.length > MAX_DATALOADER_ENTRIES)
    return `At most ${MAX_DATALOADER_ENTRIES} entries (this has ${list.length})`;
  const bad = list.findIndex((entry) => kindOf(entry) !== 'an object');
  if (bad >= 0) return `Entry ${bad + 1} is ${kindOf(list[bad])}, not an object`;
  return credentialError(list);
}

function wholeNumberError(text: string, min: number, max: number, why = ''): string | undefined {
  if (text.trim() === '') return undefined;
  const n = Number(text);
  if (!Number.isInteger(n)) return 'A whole number';
  if (n < min || n > max) return max === Number.MAX_SAFE_INTEGER ? `${min} or more` : `From ${min} to ${max}${why}`;
  return undefined;
}

/** Where the dataset stands: the upload's state matters only when the form is set to upload a file. */
export type DatasetState = 'none' | 'uploading' | 'uploaded' | 'failed';

const DATASET_ERRORS: Record<DatasetState, string | undefined> = {
  none: undefined,
  uploading: 'Wait for the upload to finish',
  uploaded: undefined,
  failed: 'The upload failed: choose the archive again, or give its URL',
};

/** What is wrong with the form now, by field; empty when it may be sent. */
export function formErrors(form: JobForm, me: User, dataset: DatasetState): FieldErrors {
  const max = maxPriority(me);
  const errors: FieldErrors = {
    configName: form.configName.trim() === '' ? 'Required: a name for this run' : undefined,
    profile: form.profile ? undefined : 'Required: the profiles could not be loaded yet',
    config: configError(form.config),
    dataloader: dataloaderError(form.dataloader),
    maxTrainSteps: wholeNumberError(form.maxTrainSteps, 1, Number.MAX_SAFE_INTEGER),
    priority: wholeNumberError(form.priority, 0, max, max < MAX_PRIORITY ? ` (more needs a lead or admin)` : ''),
    dataset: form.datasetMode === 'upload' ? DATASET_ERRORS[dataset] : undefined,
  };
  return Object.fromEntries(Object.entries(errors).filter(([, v]) => v !== undefined));
}

/** The submission, from a form without errors; empty optional fields are left out (the API's defaults apply). */
export function submitBody(form: JobForm, uploadId: string | null): SubmitJobBody {
  const text = (s: string) => s.trim();
  const body: SubmitJobBody = {
    config_name: text(form.configName),
    config: JSON.parse(form.config) as Record<string, unknown>,
    hardware_profile: form.profile,
  };
  if (text(form.dataloader)) body.dataloader_config = JSON.parse(form.dataloader) as Record<string, unknown>[];
  if (form.datasetMode === 'upload' && uploadId) body.dataset = { upload_id: uploadId };
  if (form.datasetMode === 'url' && text(form.datasetUrl)) body.dataset = { url: text(form.datasetUrl) };
  if (text(form.hubModelId)) body.hub_model_id = text(form.hubModelId);
  if (text(form.maxTrainSteps)) body.max_train_steps = Number(form.maxTrainSteps);
  if (text(form.priority)) body.priority = Number(form.priority);
  // The token goes as typed: spaces may be part of what the user pasted, and the API says if it is wrong.
  if (form.hfToken) body.secrets = { hf_token: form.hfToken };
  return body;
}

/** The form field an API error's `details` key names (`dataset.url`, `secrets.hf_token`, `max_priority`…). */
export function fieldOfDetail(key: string): FieldId | null {
  const head = key.split(/[.[]/)[0];
  const fields: Record<string, FieldId> = {
    config_name: 'configName',
    config: 'config',
    dataloader_config: 'dataloader',
    hardware_profile: 'profile',
    dataset: 'dataset',
    hub_model_id: 'hubModelId',
    max_train_steps: 'maxTrainSteps',
    priority: 'priority',
    max_priority: 'priority',
    // A credential found in a config is reported under `secrets`: its place is the HF token field.
    secrets: 'hfToken',
  };
  return fields[head] ?? null;
}

/** The API's refusal spread over the fields it names; what names no field of the form stays in the summary. */
export function fieldErrorsOf(err: ApiError): FieldErrors {
  const errors: FieldErrors = {};
  for (const [key, value] of Object.entries(err.details ?? {})) {
    const field = fieldOfDetail(key);
    if (!field) continue;
    const text = key === 'max_priority' ? `${err.message} (at most ${String(value)})` : String(value);
    errors[field] = errors[field] ? `${errors[field]}; ${text}` : text;
  }
  return errors;
}

/** The Content-Type of an archive, from its name: browsers label zips and tarballs differently, so it is set here. */
export function archiveType(filename: string): UploadContentType | null {
  const name = filename.toLowerCase();
  if (name.endsWith('.zip')) return 'application/zip';
  if (name.endsWith('.tar')) return 'application/x-tar';
  if (name.endsWith('.tar.gz') || name.endsWith('.tgz')) return 'application/gzip';
  return null;
}
