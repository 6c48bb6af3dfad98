import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/** Where the enterprise file is looked for, first found wins. */
function enterpriseConfigCandidates(env: NodeJS.ProcessEnv, cwd = process.cwd()): string[] {
  const candidates: string[] = [];
  if (env.SIMPLETUNER_ENTERPRISE_CONFIG) candidates.push(env.SIMPLETUNER_ENTERPRISE_CONFIG);
  candidates.push(path.join(cwd, 'simpletuner-enterprise.yaml'));
  candidates.push(path.join(os.homedir(), '.config', 'simpletuner', 'enterprise.yaml'));
  candidates.push('/etc/simpletuner/enterprise.yaml');
  return candidates;
}

const interval = z.number().min(1, 'must be at least 1 second');
const positiveInt = z.number().int().min(1);

/** Keys this service uses; anything else in the file is kept and ignored. */
const enterpriseFileSchema = z
  .object({
    background: z
      .object({
        job_status_polling: z
          .object({ enabled: z.boolean().nullable().optional(), interval_seconds: interval.optional() })
          .loose()
          .optional(),
        queue_processing: z
          .object({
            enabled: z.literal(true, { error: 'queue processing cannot be disabled' }).optional(),
            interval_seconds: interval.optional(),
          })
          .loose()
          .optional(),
        approval_expiration: z.object({ interval_seconds: interval.optional() }).loose().optional(),
      })
      .loose()
      .optional(),
    queue: z
      .object({
        max_concurrent: positiveInt.optional(),
        user_max_concurrent: positiveInt.optional(),
        org_max_concurrent: positiveInt.optional(),
        starvation_minutes: z.number().positive().optional(),
      })
      .loose()
      .optional(),
    approvals: z.object({ expires_hours: z.number().positive().optional() }).loose().optional(),
  })
  .loose();

type EnterpriseFile = z.infer<typeof enterpriseFileSchema>;

export interface LoadedEnterpriseFile {
  path: string | null;
  data: EnterpriseFile;
}

/** Replaces `${VAR}` with the environment's value (empty when unset), before parsing. */
function interpolateEnv(text: string, env: NodeJS.ProcessEnv): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, name: string) => env[name] ?? '');
}

export class EnterpriseFileError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
  }
}

export function loadEnterpriseFile(env: NodeJS.ProcessEnv, cwd = process.cwd()): LoadedEnterpriseFile {
  const explicit = env.SIMPLETUNER_ENTERPRISE_CONFIG;
  if (explicit && !fs.existsSync(explicit)) {
    throw new EnterpriseFileError([`SIMPLETUNER_ENTERPRISE_CONFIG: file not found: ${explicit}`]);
  }
  const found = enterpriseConfigCandidates(env, cwd).find((p) => fs.existsSync(p));
  if (!found) return { path: null, data: {} };

  let raw: unknown;
  try {
    // YAML is a superset of JSON, so one parser reads both formats.
    raw = parseYaml(interpolateEnv(fs.readFileSync(found, 'utf8'), env)) ?? {};
  } catch (err) {
    throw new EnterpriseFileError([`enterprise config ${found}: cannot parse: ${(err as Error).message}`]);
  }
  const parsed = enterpriseFileSchema.safeParse(raw);
  if (!parsed.success) {
    throw new EnterpriseFileError(
      parsed.error.issues.map((i) => `enterprise config ${found}: ${i.path.join('.') || '(root)'}: ${i.message}`),
    );
  }
  return { path: found, data: parsed.data };
}
