import { isSecretKey, REDACTED, redactString } from '../../src/common/secrets';

/** The one list of what counts as a secret (log lines, job configs in responses, event payloads). */
describe('secret names', () => {
  it.each([
    'password',
    'db_password',
    'passwd',
    'pwd',
    'secret',
    'client_secret',
    'webhook_secret',
    'hf_token',
    'access_token',
    'api_key',
    'apiKey',
    'x-api-key',
    'wandb_key',
    'private_key',
    'aws_access_key_id',
    'aws_secret_access_key',
    'authorization',
    'hub_auth',
    'credentials',
    'cookie',
    'signature',
    'session_id',
    'key',
  ])('%s is a secret', (name) => {
    expect(isSecretKey(name)).toBe(true);
  });

  it.each([
    'api_key_id',
    'token_id',
    'key_prefix',
    'expires_at',
    'webhook_secret_set',
    'author',
    'job_id',
    'learning_rate',
    'config_name',
    'monkey',
    'keyword',
  ])('%s is not', (name) => {
    expect(isSecretKey(name)).toBe(false);
  });
});

describe('secret values', () => {
  it.each([
    [
      'an API key of this service',
      'key st_abcdefghijklmnopqrstuvwxyz012345 used',
      'st_abcdefghijklmnopqrstuvwxyz012345',
    ],
    ['a webhook signing secret', 'secret whsec_QWxhZGRpbjpvcGVu', 'whsec_QWxhZGRpbjpvcGVu'],
    ['a Replicate token', 'r8_AbCdEf0123456789xyz', 'r8_AbCdEf0123456789xyz'],
    ['a Hugging Face token', 'hf_abcdefghijklmnopqrstuvwxyz12', 'hf_abcdefghijklmnopqrstuvwxyz12'],
    ['an OpenAI-style key', 'sk-proj-abcdefghijklmnopqrstu', 'sk-proj-abcdefghijklmnopqrstu'],
    ['a GitHub token', 'ghp_abcdefghijklmnopqrstuvwxyz123456', 'ghp_abcdefghijklmnopqrstuvwxyz123456'],
    ['an AWS access key id', 'AKIAIOSFODNN7EXAMPLE', 'AKIAIOSFODNN7EXAMPLE'],
    ['a Slack token', 'xoxb-123456789012-abcdefghij', 'xoxb-123456789012-abcdefghij'],
    ['a bearer credential', 'Authorization: Bearer eyJhbGciOi.abc.def', 'eyJhbGciOi.abc.def'],
    ['a basic credential', 'Basic dXNlcjpwYXNzd29yZA==', 'dXNlcjpwYXNzd29yZA=='],
    ['a password in a URL', 'https://user:hunter2@host.example/data', 'hunter2'],
    ['a secret query parameter', 'https://x.example/cb?token=abc123&x=1', 'abc123'],
    ['a password in free text', 'failed: password=hunter22 rejected', 'hunter22'],
  ])('%s', (_what, text, secret) => {
    const out = redactString(text);
    expect(out).not.toContain(secret);
    expect(out).toContain(REDACTED);
  });

  it('leaves ordinary text alone', () => {
    for (const text of [
      'Job submitted successfully',
      'lr=0.0001 steps=1000',
      'https://host.example/data/x.safetensors',
    ])
      expect(redactString(text)).toBe(text);
  });
});
