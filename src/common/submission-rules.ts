/**
 * What a submission may carry, for the service's submit pipeline and for the dashboard's form (dependency-free: the
 * page bundles it), so the two cannot drift.
 */

/** Config keys that hold credentials: never accepted in a free-form config, at any depth, in any case. */
export const CREDENTIAL_CONFIG_KEYS: ReadonlySet<string> = new Set([
  'hf_token',
  'huggingface_token',
  'hub_token',
  'wandb_api_key',
  'aws_secret_access_key',
  's3_secret_access_key',
  'replicate_api_token',
  'api_key',
  'password',
]);

/** The priority a submission gets when it names none; a researcher may not ask for more than its own. */
export const DEFAULT_PRIORITY_BY_LEVEL = { viewer: 0, researcher: 10, lead: 20, admin: 30 } as const;

/** The highest priority a lead or an admin may ask for. */
export const MAX_SUBMIT_PRIORITY = 50;

/** The most entries a dataloader config (the trainer's multidatabackend list) may hold. */
export const MAX_DATALOADER_ENTRIES = 64;
