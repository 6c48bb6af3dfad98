import { z } from 'zod';
import type { AppConfig } from '../../src/config';

/**
 * The example's own keys in the enterprise file (the service keeps keys it does not know and ignores them):
 *
 *   onprem:
 *     run_seconds: 2          # how long a job runs on the in-house cluster
 *     chargeback_rate: 1.25   # multiplier on a finished job's cost, for the monthly chargeback
 */
const onpremSchema = z
  .object({
    run_seconds: z.number().positive().default(2),
    chargeback_rate: z.number().positive().default(1),
  })
  .default({ run_seconds: 2, chargeback_rate: 1 });

export type OnpremSettings = z.infer<typeof onpremSchema>;

/** Validated once at boot: a typo in the file stops the service with the key's name, as core keys do. */
export function onpremSettings(config: AppConfig): OnpremSettings {
  const parsed = onpremSchema.safeParse(config.enterprise.raw.onprem);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `onprem.${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid enterprise configuration: ${problems.join('; ')}`);
  }
  return parsed.data;
}
