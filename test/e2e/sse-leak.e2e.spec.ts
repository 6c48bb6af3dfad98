import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import type { Server } from 'node:http';
import { DataSource } from 'typeorm';
import { EventHub } from '../../src/events';
import { openSse } from '../support/sse-client';
import { logOutput } from '../support/test-logs';
import { publishEvents } from '../support/events';
import { startTestApp, TestApp } from '../support/test-app';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Active timers and TCP sockets of the process, not counting the database pool's (it grows lazily). */
function activeResources(db: DataSource): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) counts[r] = (counts[r] ?? 0) + 1;
  const pool = (db.driver as unknown as { master: { totalCount: number; idleCount: number } }).master;
  counts.TCPSocketWrap = (counts.TCPSocketWrap ?? 0) - pool.totalCount;
  // pg's pool arms an idle timer per idle client.
  counts.Timeout = (counts.Timeout ?? 0) - pool.idleCount;
  return counts;
}

/** Live heap objects after GC, leaving out compiled code (V8 keeps optimising hot paths, which is not a leak). */
async function settledHeap(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    await sleep(50);
    gc();
  }
  return v8
    .getHeapSpaceStatistics()
    .filter((s) => !s.space_name.startsWith('code'))
    .reduce((sum, s) => sum + s.space_used_size, 0);
}

/** Streams that come and go leave nothing behind: no slot, listener, timer, socket or memory. */
describe('SSE connect/disconnect cycles', () => {
  let app: TestApp;
  let hub: EventHub;

  beforeAll(async () => {
    app = await startTestApp({ env: { SIMPLETUNER_SSE_MAX_PER_USER: '5' } });
    hub = app.app.get(EventHub);
  });
  afterAll(async () => {
    await app?.stop();
  });

  const serverConnections = () =>
    new Promise<number>((resolve, reject) =>
      (app.app.getHttpServer() as Server).getConnections((err, n) => (err ? reject(err) : resolve(n))),
    );

  async function cycles(count: number, lastEventId: string): Promise<number> {
    let received = 0;
    for (let i = 0; i < count; i++) {
      const headers: Record<string, string> = i % 2 === 0 ? { 'Last-Event-ID': lastEventId } : {};
      const s = await openSse(app.url, '/api/events', { key: app.adminKey, headers });
      expect(s.status).toBe(200);
      if (i % 10 === 9) {
        // Leaves before the stream is set up: the slot must still be released.
        await s.close();
        continue;
      }
      await s.waitFor((x) => x.comments.includes('connected'));
      if (i % 2 === 0) {
        await s.waitForMessages(3);
        received += s.messages.length;
      }
      await s.close();
    }
    return received;
  }

  it('200 cycles leave no growth in listeners, timers, sockets or memory', async () => {
    const db = app.app.get(DataSource);
    const first = await publishEvents(
      app.app,
      [1, 2, 3, 4].map((n) => ({ type: 'job_status_changed', jobId: 'job-leak', data: { n } })),
    );
    await cycles(40, first[0].id); // warm-up: lazily created modules, JIT, pools
    await sleep(200);
    const stats0 = hub.stats();
    const resources0 = activeResources(db);
    const heap0 = await settledHeap();

    const received = await cycles(200, first[0].id);
    expect(received).toBe(100 * 3); // every replaying stream got exactly the 3 events after its Last-Event-ID
    for (let i = 0; i < 50 && (hub.stats().connections > 0 || (await serverConnections()) > 0); i++) await sleep(20);
    const heap1 = await settledHeap();
    const stats1 = hub.stats();
    const resources1 = activeResources(db);

    expect(stats1).toEqual({ connections: 0, listeners: 0, users: 0, timers: stats0.timers });
    expect(stats0).toEqual(stats1);
    expect(await serverConnections()).toBe(0);
    expect(resources1.Timeout ?? 0).toBeLessThanOrEqual(resources0.Timeout ?? 0);
    expect(resources1.TCPSocketWrap ?? 0).toBeLessThanOrEqual(resources0.TCPSocketWrap ?? 0);
    const growth = heap1 - heap0;
    // 200 leaked streams of even 5 KB each would be ~1 MB.
    expect(growth).toBeLessThan(1024 * 1024);
    logOutput(
      '[measure]',
      `sse-leak: heap growth over 200 cycles ${(growth / 1024).toFixed(1)} KiB; stats ${JSON.stringify(stats1)}; resources ${JSON.stringify(resources1)}`,
    );
  });
});
