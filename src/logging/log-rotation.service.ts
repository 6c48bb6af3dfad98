import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config';
import { getLogger } from './pipeline';
import { currentLogFile, logFileSize, reopenLogFile } from './sinks';

const log = getLogger('simpletuner.cloud.logging');

export interface RotationResult {
  rotated: boolean;
  reason?: 'size' | 'daily' | 'manual';
  bytes?: number;
}

/**
 * Rotates SIMPLETUNER_LOG_FILE to `<file>.1` … `<file>.N`. The file is renamed while the writer still
 * holds it open, so lines written in between land in `<file>.1`; the writer then re-opens the path between two
 * whole-line writes (sonic-boom finishes a partial write on the old descriptor first). No line is lost or split.
 */
@Injectable()
export class LogRotationService {
  private rotating: Promise<RotationResult> | null = null;
  private readonly maxBytes: number;
  private readonly retention: number;

  constructor(config: AppConfig) {
    this.maxBytes = config.env.SIMPLETUNER_LOG_MAX_BYTES;
    this.retention = config.env.SIMPLETUNER_LOG_RETENTION;
  }

  /** The size check of the @Interval. */
  async rotateIfNeeded(_now: Date = new Date()): Promise<RotationResult> {
    const file = currentLogFile();
    if (!file) return { rotated: false };
    const bytes = logFileSize();
    if (bytes < this.maxBytes) return { rotated: false, bytes };
    return this.rotate('size');
  }

  /** The daily @Cron: rotates unless the file is empty. */
  async rotateDaily(_now: Date = new Date()): Promise<RotationResult> {
    if (!currentLogFile() || logFileSize() === 0) return { rotated: false };
    return this.rotate('daily');
  }

  /** One rotation at a time: a second caller shares the one in progress. */
  rotate(reason: RotationResult['reason'] = 'manual'): Promise<RotationResult> {
    this.rotating ??= this.doRotate(reason).finally(() => {
      this.rotating = null;
    });
    return this.rotating;
  }

  private async doRotate(reason: RotationResult['reason']): Promise<RotationResult> {
    const file = currentLogFile();
    if (!file) return { rotated: false };
    // No flush first: under steady writing the buffer may never drain. Lines still buffered at the reopen
    // simply go to the new file.
    const bytes = logFileSize();
    // Shift only the numbers that exist (one readdir, not N failed renames), oldest first; `.N` drops off.
    const existing = await this.rotatedNumbers(file);
    for (const n of existing.filter((k) => k >= this.retention)) await fs.rm(`${file}.${n}`, { force: true });
    for (const n of existing.filter((k) => k < this.retention).sort((a, b) => b - a)) {
      await renameIfExists(`${file}.${n}`, `${file}.${n + 1}`);
    }
    if (!(await renameIfExists(file, `${file}.1`))) return { rotated: false };
    await reopenLogFile();
    log.info('Rotated log file', { file: path.basename(file), reason, bytes, retention: this.retention });
    return { rotated: true, reason, bytes };
  }

  /** The numbers k of existing `<file>.k`. */
  private async rotatedNumbers(file: string): Promise<number[]> {
    const base = path.basename(file);
    let names: string[];
    try {
      names = await fs.readdir(path.dirname(file));
    } catch {
      return [];
    }
    const out: number[] = [];
    for (const name of names) {
      if (!name.startsWith(base + '.')) continue;
      const suffix = name.slice(base.length + 1);
      if (/^\d+$/.test(suffix)) out.push(Number(suffix));
    }
    return out;
  }
}

async function renameIfExists(from: string, to: string): Promise<boolean> {
  try {
    await fs.rename(from, to);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}
