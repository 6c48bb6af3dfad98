import { randomBytes } from 'node:crypto';
import { SecretBox } from '../../src/secrets';

describe('SecretBox (AES-256-GCM at rest)', () => {
  const a = randomBytes(32);
  const b = randomBytes(32);

  it('seals with a fresh nonce each time and opens what it sealed', () => {
    const box = new SecretBox(a);
    const one = box.seal('hf_secret_value');
    const two = box.seal('hf_secret_value');
    expect(one.sealed).not.toBe(two.sealed);
    expect(one.sealed).not.toContain('hf_secret_value');
    expect(box.open(one)).toBe('hf_secret_value');
    expect(box.open(two)).toBe('hf_secret_value');
  });

  it('after a rotation, seals with the new key and still opens values sealed with the previous one', () => {
    const old = new SecretBox(a).seal('before rotation');
    const rotated = new SecretBox(b, [a]);
    expect(rotated.open(old)).toBe('before rotation');
    const fresh = rotated.seal('after rotation');
    expect(fresh.keyId).not.toBe(old.keyId);
    expect(() => new SecretBox(a).open(fresh)).toThrow(/No secret key/);
  });

  it('refuses an altered value, and sealing without a key', () => {
    const box = new SecretBox(a);
    const sealed = box.seal('x');
    const raw = Buffer.from(sealed.sealed, 'base64');
    raw[raw.length - 1] ^= 1;
    expect(() => box.open({ ...sealed, sealed: raw.toString('base64') })).toThrow();
    expect(new SecretBox(null).canSeal).toBe(false);
    expect(() => new SecretBox(null).seal('x')).toThrow();
  });
});
