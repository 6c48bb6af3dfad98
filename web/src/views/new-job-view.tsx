import { useEffect, useState } from 'preact/hooks';
import { ApiError } from '../api';
import type { ApprovalRequest, ProviderList, SubmittedJob } from '../api-types';
import { useDashboard } from '../dashboard-context';
import { useResource } from '../hooks';
import { DatasetField, datasetState, useUpload } from './dataset-field';
import { CostEstimateLine, defaultProvider, HardwareField } from './hardware-field';
import { RunFields, TrainingFields } from './new-job-fields';
import {
  EMPTY_FORM,
  fieldErrorsOf,
  fieldOfDetail,
  formErrors,
  submitBody,
  type FieldErrors,
  type FieldId,
  type JobForm,
} from './new-job-checks';
import { SubmitOutcome, type Outcome } from './submit-outcome';

/** The control of each field, in the order of the page: the first one in error takes the focus. */
const CONTROL_IDS: Record<FieldId, string[]> = {
  configName: ['config-name'],
  profile: ['hardware'],
  config: ['config-json'],
  dataloader: ['dataloader-json'],
  dataset: ['dataset-file', 'dataset-url'],
  hubModelId: ['hub-model-id'],
  maxTrainSteps: ['max-train-steps'],
  priority: ['priority'],
  hfToken: ['hf-token'],
};

function focusFirst(errors: FieldErrors): void {
  const first = (Object.keys(CONTROL_IDS) as FieldId[]).find((f) => errors[f]);
  // The dataset has two controls, one of them hidden: the one on show takes the focus.
  const onShow = (el: HTMLElement | null): el is HTMLElement => el !== null && el.closest('[hidden]') === null;
  if (first)
    CONTROL_IDS[first]
      .map((id) => document.getElementById(id))
      .find(onShow)
      ?.focus();
}

const toApiError = (err: unknown) =>
  err instanceof ApiError ? err : new ApiError(0, 'client_error', String(err), null);

/** What the summary under the button says of a refusal: the message, and any detail no field shows. */
function refusalText(err: ApiError): string {
  const details = Object.entries(err.details ?? {});
  const unplaced = details.filter(([k]) => fieldOfDetail(k) === null).map(([k, v]) => `${k}: ${String(v)}`);
  const placed = details.length > unplaced.length ? ' (see the fields marked above)' : '';
  return `${err.message}${unplaced.length ? ` (${unplaced.join('; ')})` : ''}${placed}`;
}

/** POST /api/cloud/jobs/submit from a form; researchers and above (the dashboard shows viewers no New job tab). */
export function NewJobView() {
  const { api, me } = useDashboard();
  const [form, setForm] = useState<JobForm>(EMPTY_FORM);
  const [touched, setTouched] = useState<ReadonlySet<string>>(new Set());
  const [attempted, setAttempted] = useState(false);
  const [serverErrors, setServerErrors] = useState<FieldErrors>({});
  const [refusal, setRefusal] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const upload = useUpload(api);
  const providers = useResource(() => api.get<ProviderList>('/api/cloud/providers'), []);
  const provider = defaultProvider(providers.data);
  // The first profile until one is chosen (the list comes from the API).
  const current = { ...form, profile: form.profile || provider?.hardware[0]?.profile || '' };

  const clientErrors = formErrors(current, me, datasetState(upload.state));
  const shown: FieldErrors = { ...serverErrors };
  for (const [f, message] of Object.entries(clientErrors) as [FieldId, string][]) {
    if (attempted || touched.has(f)) shown[f] = message;
  }
  const change = (patch: Partial<JobForm>) => {
    setForm((f) => ({ ...f, ...patch }));
    const fields = Object.keys(patch).map((k) => (k === 'datasetMode' || k === 'datasetUrl' ? 'dataset' : k));
    setTouched((t) => new Set([...t, ...fields]));
    setServerErrors((e) => Object.fromEntries(Object.entries(e).filter(([k]) => !fields.includes(k))));
  };
  useEffect(() => {
    if (upload.state.status !== 'none') setServerErrors(({ dataset: _, ...rest }) => rest);
  }, [upload.state.status]);
  useEffect(() => {
    if (outcome) document.getElementById('submit-outcome')?.focus();
  }, [outcome]);

  const submit = async (e: Event) => {
    e.preventDefault();
    setAttempted(true);
    if (Object.keys(clientErrors).length > 0) return focusFirst(clientErrors);
    setBusy(true);
    setRefusal(null);
    setOutcome(null);
    const uploadId = upload.state.status === 'uploaded' ? upload.state.upload.upload_id : null;
    try {
      const job = await api.post<SubmittedJob>('/api/cloud/jobs/submit', submitBody(current, uploadId));
      const approval = job.approval_id
        ? await api.get<ApprovalRequest>(`/api/approvals/requests/${job.approval_id}`).catch(toApiError)
        : null;
      setOutcome({ job, name: form.configName.trim(), approval });
      // The token went with this job; the page keeps it no longer than it must.
      setForm((f) => ({ ...f, hfToken: '' }));
    } catch (err) {
      const refused = toApiError(err);
      const fields = fieldErrorsOf(refused);
      setRefusal(refused);
      setServerErrors(fields);
      focusFirst(fields);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="new-job-heading">
      <div class="view-head">
        <h2 id="new-job-heading">New job</h2>
      </div>
      <p class="view-help">
        A SimpleTuner training run: its config and dataloader, the dataset, the hardware. Jobs may wait for an approval
        or a free slot; both are shown once it is submitted.
      </p>
      <form class="card job-form" noValidate onSubmit={(e) => void submit(e)}>
        <div class="form-grid">
          <TrainingFields form={form} errors={shown} onChange={change}>
            <HardwareField
              providers={providers}
              value={current.profile}
              error={shown.profile}
              onChange={(p) => change({ profile: p })}
            />
          </TrainingFields>
          <DatasetField form={form} provider={provider?.name} upload={upload} error={shown.dataset} onChange={change} />
          <RunFields form={form} errors={shown} onChange={change} me={me} />
        </div>
        <div class="submit-bar">
          <CostEstimateLine profile={current.profile} />
          <button type="submit" disabled={busy}>
            {busy ? 'Submitting…' : 'Submit job'}
          </button>
        </div>
        {refusal && (
          <div class="notice notice-error" role="alert">
            <p>
              <strong>The job was not submitted:</strong> {refusalText(refusal)}
              <br />
              Correlation id: <code>{refusal.correlationId ?? 'none (the service did not answer)'}</code>
            </p>
          </div>
        )}
      </form>
      {outcome && <SubmitOutcome key={outcome.job.job_id} outcome={outcome} />}
    </section>
  );
}
