import { useDashboard } from '../dashboard-context';
import { duration, money } from '../format';
import { useResource, type Resource } from '../hooks';
import type { CostEstimate, ProviderList } from '../api-types';
import { describedBy, Field } from '../ui/field';

type ProviderView = ProviderList['providers'][number];

/** Where a job goes when it names no provider: the API's default, as GET /api/cloud/providers reports it. */
export const defaultProvider = (list: ProviderList | undefined): ProviderView | undefined =>
  list?.providers.find((p) => p.name === list.default_provider) ?? list?.providers[0];

const perHour = (perSecond: number) => `${money(perSecond * 3600)}/h`;

interface HardwareFieldProps {
  providers: Resource<ProviderList>;
  value: string;
  error: string | undefined;
  onChange: (profile: string) => void;
}

/** The hardware profiles of the provider the job will run on, each with its price per hour. */
export function HardwareField({ providers, value, error, onChange }: HardwareFieldProps) {
  const provider = defaultProvider(providers.data);
  const failed = providers.error;
  const hint = provider
    ? `Runs on ${provider.name}. GPUs multiply with -x2, -x4 and -x8, and so does the price.`
    : failed
      ? `Could not load the profiles: ${failed.fullMessage}${failed.correlationId ? ` (correlation id ${failed.correlationId})` : ''}`
      : 'Loading the profiles and their prices…';
  return (
    <Field id="hardware" label="Hardware profile" hint={hint} error={error}>
      <select
        {...describedBy('hardware', true, error)}
        value={value}
        disabled={!provider}
        onChange={(e) => onChange((e.target as HTMLSelectElement).value)}
      >
        {provider?.hardware.map((h) => (
          <option value={h.profile} key={h.profile}>
            {h.profile} · {perHour(h.cost_per_second)}
          </option>
        ))}
      </select>
    </Field>
  );
}

const BASIS: Record<CostEstimate['basis'], (e: CostEstimate) => string> = {
  history: (e) =>
    `the mean run of your organisation’s ${e.sample_size} completed job${e.sample_size === 1 ? '' : 's'} on ${e.hardware_profile} over 90 days`,
  config: () => 'the config’s own estimate',
  default: (e) => `no completed job on ${e.hardware_profile} yet, so one hour is assumed`,
};

/** GET /api/cloud/cost-estimate for the chosen profile, in words, before anything is submitted. */
export function CostEstimateLine({ profile }: { profile: string }) {
  const { api } = useDashboard();
  const estimate = useResource(
    () =>
      profile
        ? api.get<CostEstimate>(`/api/cloud/cost-estimate?hardware_profile=${encodeURIComponent(profile)}`)
        : Promise.resolve(undefined),
    [profile],
  );
  const e = estimate.data;
  return (
    <p class="estimate" role="status" aria-label="Cost estimate">
      {estimate.error ? (
        <>
          No estimate: {estimate.error.fullMessage}
          {estimate.error.correlationId && (
            <>
              {' '}
              (correlation id <code>{estimate.error.correlationId}</code>)
            </>
          )}
        </>
      ) : e ? (
        <>
          Estimated cost <strong>{money(e.estimated_cost)}</strong> on {e.hardware_profile}:{' '}
          {duration(e.estimated_duration_seconds)} at {money(e.cost_per_hour)}/h ({BASIS[e.basis](e)}).
        </>
      ) : (
        'Estimating the cost…'
      )}
    </p>
  );
}
