import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A value sealed with AES-256-GCM: base64 of nonce ‖ tag ‖ ciphertext, and the id of the key that sealed it. */
export interface SealedValue {
  sealed: string;
  keyId: string;
}

/** The id stored beside a sealed value: names the key without revealing anything about it. */
function keyIdOf(key: Buffer): string {
  return createHash('sha256').update('simpletuner-secret-key').update(key).digest('hex').slice(0, 16);
}

/**
 * Seals and opens secrets at rest (AES-256-GCM, a random nonce per value, the key id beside each value). The
 * current key seals; it and the previous keys (a rotation) open. Without a current key nothing can be sealed.
 */
export class SecretBox {
  private readonly keys: Map<string, Buffer>;
  private readonly current: { id: string; key: Buffer } | null;

  constructor(current: Buffer | null, previous: Buffer[] = []) {
    this.current = current ? { id: keyIdOf(current), key: current } : null;
    this.keys = new Map([...previous, ...(current ? [current] : [])].map((k) => [keyIdOf(k), k]));
  }

  get canSeal(): boolean {
    return this.current !== null;
  }

  seal(plaintext: string): SealedValue {
    if (!this.current) throw new Error('No secret key: nothing can be sealed');
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return { sealed: Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64'), keyId: this.current.id };
  }

  /** Throws when the key is unknown (rotated out) or the value was altered. */
  open(value: SealedValue): string {
    const key = this.keys.get(value.keyId);
    if (!key) throw new Error(`No secret key with id ${value.keyId}: was it rotated out?`);
    const raw = Buffer.from(value.sealed, 'base64');
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
  }
}
