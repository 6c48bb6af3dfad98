import { CpuProfile, formatSummary, summarise } from '../../bench/cpuprofile-top';

/** bench/cpuprofile-top.ts: self time by function and by package, without idle or the profiler's own work. */
describe('cpuprofile-top', () => {
  const frame = (functionName: string, url = '', lineNumber = 0) => ({
    functionName,
    url,
    lineNumber,
    columnNumber: 0,
  });
  const profile: CpuProfile = {
    nodes: [
      { id: 1, callFrame: frame('(root)'), children: [2, 3, 5, 6] },
      { id: 2, callFrame: frame('parseRow', 'file:///x/node_modules/pg/lib/result.js', 62), children: [4] },
      { id: 3, callFrame: frame('list', 'file:///x/dist/src/jobs/jobs.repository.js', 68) },
      { id: 4, callFrame: frame('parseDate', 'file:///x/node_modules/postgres-date/index.js', 7) },
      { id: 5, callFrame: frame('(idle)') },
      { id: 6, callFrame: frame('post', 'node:inspector', 111), children: [7] },
      { id: 7, callFrame: frame('dispatch') },
    ],
    startTime: 0,
    endTime: 10_000,
    // parseRow 3 ms, list 1 ms, parseDate 2 ms, idle 4 ms, the profiler 5 ms.
    samples: [2, 2, 2, 3, 4, 4, 5, 5, 5, 5, 7, 7, 7, 7, 7],
    timeDeltas: Array.from({ length: 15 }, () => 1000),
  };

  it('ranks functions and packages by self time over the busy time', () => {
    const s = summarise(profile);
    expect(s.totalMs).toBe(10);
    expect(s.busyMs).toBe(6);
    expect(s.functions.map((f) => [f.name, f.ms])).toEqual([
      ['parseRow pg/lib/result.js:63', 3],
      ['parseDate postgres-date/index.js:8', 2],
      ['list dist/src/jobs/jobs.repository.js:69', 1],
    ]);
    expect(s.packages.map((p) => [p.name, p.share])).toEqual([
      ['pg', 0.5],
      ['postgres-date', 2 / 6],
      ['app:jobs', 1 / 6],
    ]);
    expect(formatSummary(s)).toContain(' 50.0%  pg');
  });
});
