import { Injectable } from '@nestjs/common';
import { SettingsRepository } from './settings.repository';

/**
 * Run-time settings changed through the API (queue limits, the polling preference). A stored value wins over the
 * environment, the enterprise file and the default until it is cleared. Reads and writes join the caller's
 * transaction, so a setting and the event announcing it commit together.
 */
@Injectable()
export class SettingsService {
  constructor(private readonly repo: SettingsRepository) {}

  /** The stored value, or undefined when none is stored. */
  get(key: string): Promise<unknown> {
    return this.repo.read(key);
  }

  /** Stores `value` (null or undefined clears the setting). */
  async set(key: string, value: unknown): Promise<void> {
    if (value === null || value === undefined) await this.repo.remove(key);
    else await this.repo.write(key, value);
  }
}
