import { Clock } from '../../src/common/clock';

/** A clock a test can stop at an instant and release again (to the system time). */
export class TestClock extends Clock {
  private fixed: number | null = null;

  override now(): Date {
    return new Date(this.fixed ?? Date.now());
  }

  set(at: number | Date): void {
    this.fixed = typeof at === 'number' ? at : at.getTime();
  }

  release(): void {
    this.fixed = null;
  }
}
