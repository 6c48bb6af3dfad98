import { Injectable, Module, OnModuleInit } from '@nestjs/common';
import { MetricsService } from '../../src/metrics';
import { ProviderRegistry } from '../../src/providers/provider-registry';
import { ProviderCallError } from '../../src/providers/provider.interface';
import { Interval } from '../../src/scheduling';
import { http } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A feature module's use of the shared registry: a scrape-time gauge and a counter, plus a task. */
@Injectable()
class WidgetMetrics implements OnModuleInit {
  widgets = 3;
  private probeTicks = 0;
  constructor(private readonly metrics: MetricsService) {}
  onModuleInit(): void {
    const widgets = () => this.widgets;
    this.metrics.gauge({
      name: 'simpletuner_test_widgets',
      help: 'Widgets, read at scrape time',
      collect() {
        this.set(widgets());
      },
    });
    // Asking again for the same name returns the same series instead of throwing.
    this.metrics.gauge({ name: 'simpletuner_test_widgets', help: 'again' });
  }

  @Interval('metrics_probe', 0.1)
  probe(): void {
    if (++this.probeTicks % 2 === 0) throw new Error('every other tick fails');
  }
}
@Module({ providers: [WidgetMetrics] })
class WidgetMetricsModule {}

describe('GET /metrics (Prometheus text)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ imports: [WidgetMetricsModule] });
    await sleep(700);
  });
  afterAll(async () => {
    await app?.stop();
  });

  const scrape = async () => {
    const res = await http(app.url, 'GET', '/metrics');
    expect(res.status).toBe(200);
    return res;
  };
  const value = (text: string, series: string): number => {
    const line = text.split('\n').find((l) => l.startsWith(series + ' '));
    if (!line)
      throw new Error(
        `no series ${series} in:\n${text
          .split('\n')
          .filter((l) => l.startsWith('simpletuner_'))
          .join('\n')}`,
      );
    return Number(line.slice(series.length + 1));
  };

  it('is public and in the Prometheus text format', async () => {
    const res = await scrape();
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4; charset=utf-8$/);
    expect(res.text).toMatch(/^# TYPE simpletuner_background_task_runs_total counter$/m);
    expect(res.text).toMatch(/^# TYPE simpletuner_background_task_duration_seconds histogram$/m);
    expect(res.text).toMatch(/^# TYPE simpletuner_http_request_duration_seconds histogram$/m);
  });

  it('counts background task runs by outcome and times them', async () => {
    const text = (await scrape()).text;
    const ok = value(text, 'simpletuner_background_task_runs_total{task="metrics_probe",outcome="success"}');
    const failed = value(text, 'simpletuner_background_task_runs_total{task="metrics_probe",outcome="failure"}');
    expect(ok).toBeGreaterThanOrEqual(2);
    expect(Math.abs(ok - failed)).toBeLessThanOrEqual(1);
    expect(value(text, 'simpletuner_background_task_duration_seconds_count{task="metrics_probe"}')).toBe(ok + failed);
    // The listing agrees with the counters.
    const tasks = (await http(app.url, 'GET', '/api/cloud/background-tasks', { key: app.adminKey })).body.tasks;
    const probe = tasks.find((t: { name: string }) => t.name === 'metrics_probe');
    expect(probe.failures).toBeGreaterThanOrEqual(failed);
  });

  it('times HTTP requests by route pattern and status, never by raw path', async () => {
    await http(app.url, 'GET', '/api/users/me', { key: app.adminKey });
    await http(app.url, 'GET', '/api/users/me');
    await http(app.url, 'GET', '/no/such/thing/12345');
    const text = (await scrape()).text;
    expect(
      value(text, 'simpletuner_http_request_duration_seconds_count{method="GET",route="/api/users/me",status="200"}'),
    ).toBe(1);
    expect(value(text, 'simpletuner_http_requests_total{method="GET",route="/api/users/me",status="401"}')).toBe(1);
    expect(
      value(text, 'simpletuner_http_requests_total{method="GET",route="unmatched",status="404"}'),
    ).toBeGreaterThanOrEqual(1);
    expect(text).not.toContain('12345');
  });

  it("shows other modules' series, read at scrape time", async () => {
    expect(value((await scrape()).text, 'simpletuner_test_widgets')).toBe(3);
    app.app.get(WidgetMetrics).widgets = 5;
    expect(value((await scrape()).text, 'simpletuner_test_widgets')).toBe(5);
  });

  it('counts provider calls by provider, operation and outcome', async () => {
    const submit = await http(app.url, 'POST', '/api/cloud/jobs/submit', {
      key: app.adminKey,
      body: { config_name: 'metrics-probe', config: {} },
    });
    expect(submit.status).toBe(201);
    expect((await http(app.url, 'POST', '/api/queue/process', { key: app.adminKey })).status).toBeLessThan(300);
    // An enterprise provider registered later is counted the same way, errors by class.
    const registry = app.app.get(ProviderRegistry);
    registry.register({
      name: 'flaky',
      submit: () => Promise.reject(new ProviderCallError('slow down', 'flaky', { retryable: true, status: 429 })),
      get: () => Promise.resolve(null),
      cancel: () => Promise.reject(new ProviderCallError('bad request', 'flaky', { retryable: false, status: 400 })),
      findByJobId: () => Promise.resolve(null),
    });
    const flaky = registry.get('flaky');
    await expect(flaky.submit({} as never)).rejects.toThrow('slow down');
    await expect(flaky.cancel('x')).rejects.toThrow('bad request');
    await flaky.get('x');
    await flaky.get('y');
    const text = (await scrape()).text;
    expect(value(text, 'simpletuner_provider_calls_total{provider="simulator",operation="submit",outcome="ok"}')).toBe(
      1,
    );
    expect(
      value(text, 'simpletuner_provider_calls_total{provider="flaky",operation="submit",outcome="rate_limited"}'),
    ).toBe(1);
    expect(
      value(text, 'simpletuner_provider_calls_total{provider="flaky",operation="cancel",outcome="rejected"}'),
    ).toBe(1);
    expect(value(text, 'simpletuner_provider_calls_total{provider="flaky",operation="get",outcome="ok"}')).toBe(2);
    expect(flaky.name).toBe('flaky');
  });
});
