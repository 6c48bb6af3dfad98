import { Injectable } from '@nestjs/common';
import {
  collectDefaultMetrics,
  Counter,
  CounterConfiguration,
  Gauge,
  GaugeConfiguration,
  Histogram,
  HistogramConfiguration,
  Metric,
  Registry,
} from 'prom-client';

/**
 * The app's Prometheus registry (`GET /metrics`). One registry per app, not prom-client's global one,
 * so several apps in one process (tests, multi-instance checks) never collide on names. Modules register their
 * series here; asking twice for the same name returns the same metric, so re-created providers stay harmless.
 * For values read at scrape time (jobs by status, queue depth), pass `collect` to gauge().
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  counter<T extends string>(cfg: Omit<CounterConfiguration<T>, 'registers'>): Counter<T> {
    return this.getOrCreate(cfg.name, () => new Counter<T>({ ...cfg, registers: [this.registry] }));
  }

  gauge<T extends string>(cfg: Omit<GaugeConfiguration<T>, 'registers'>): Gauge<T> {
    return this.getOrCreate(cfg.name, () => new Gauge<T>({ ...cfg, registers: [this.registry] }));
  }

  histogram<T extends string>(cfg: Omit<HistogramConfiguration<T>, 'registers'>): Histogram<T> {
    return this.getOrCreate(cfg.name, () => new Histogram<T>({ ...cfg, registers: [this.registry] }));
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The Prometheus text exposition of every registered series. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  private getOrCreate<M extends Metric<string>>(name: string, make: () => M): M {
    return (this.registry.getSingleMetric(name) as M | undefined) ?? make();
  }
}
