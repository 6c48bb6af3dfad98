import { useState } from 'preact/hooks';
import { useDashboard } from '../dashboard-context';
import type { Job, RetriedJob } from '../api-types';
import { jobHref } from '../route';
import { Field, LITERAL_INPUT } from '../ui/field';

/**
 * The Retry button of a finished job. The new job opens at once. Secrets are not kept after a job ends, so for a job
 * that had some the button first asks for them again (password fields, sent with the retry only, kept nowhere).
 */
export function RetryJob({ job, busy }: { job: Job; busy: boolean }) {
  const { api, reportFailure } = useDashboard();
  const [asking, setAsking] = useState(false);
  const [sending, setSending] = useState(false);
  const [values, setValues] = useState<Record<string, string>>({});
  const names = job.secrets;

  const retry = async (secrets: Record<string, string> | undefined) => {
    setSending(true);
    try {
      const retried = await api.post<RetriedJob>(`/api/cloud/jobs/${job.job_id}/retry`, secrets ? { secrets } : {});
      location.hash = jobHref(retried.job_id);
    } catch (err) {
      reportFailure(`Retry ${job.config_name}`, err);
    } finally {
      setSending(false);
    }
  };

  if (!asking) {
    const start = () => (names.length > 0 ? setAsking(true) : void retry(undefined));
    return (
      <button type="button" disabled={busy || sending} onClick={start}>
        Retry job
      </button>
    );
  }
  const complete = names.every((n) => (values[n] ?? '') !== '');
  return (
    <form
      class="retry-secrets card"
      aria-label="Retry with secrets"
      onSubmit={(e) => {
        e.preventDefault();
        if (complete) void retry(Object.fromEntries(names.map((n) => [n, values[n]])));
      }}
    >
      <p class="hint">This job had secrets; they are not kept after a job ends. Give them again for the new job.</p>
      {names.map((name) => (
        <Field key={name} id={`retry-secret-${name}`} label={name}>
          <input
            id={`retry-secret-${name}`}
            {...LITERAL_INPUT}
            type="password"
            required
            value={values[name] ?? ''}
            onInput={(e) => setValues({ ...values, [name]: (e.target as HTMLInputElement).value })}
          />
        </Field>
      ))}
      <div>
        <button type="submit" disabled={!complete || sending}>
          Retry with these
        </button>
        <button type="button" class="secondary" disabled={sending} onClick={() => setAsking(false)}>
          Back
        </button>
      </div>
    </form>
  );
}
