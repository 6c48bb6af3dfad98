/**
 * Prints where a V8 CPU profile (.cpuprofile, as written by `node --cpu-prof` or `npm run bench:api -- --cpu-prof`)
 * spent its time: the top functions by self time, and self time by package (node_modules/<name>, node: internals,
 * this project's files, the garbage collector, idle). Samples under node:inspector (the profiler stopping itself,
 * when the profile was taken through the inspector module) are left out.
 *
 *   node -r ./tools/ts-register.js bench/cpuprofile-top.ts <file.cpuprofile> [top=25]
 */
import * as fs from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

interface SelfTime {
  name: string;
  ms: number;
  /** Of the profile's busy time (all samples but idle). */
  share: number;
}

interface ProfileSummary {
  totalMs: number;
  busyMs: number;
  functions: SelfTime[];
  packages: SelfTime[];
}

function packageOf(url: string, functionName: string): string {
  if (functionName === '(garbage collector)') return '(gc)';
  if (functionName === '(idle)' || functionName === '(program)') return functionName;
  if (!url) return '(native)';
  if (url.startsWith('node:')) return 'node:internals';
  const at = url.lastIndexOf('node_modules/');
  if (at >= 0) {
    const rest = url.slice(at + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  const local = /\/(dist\/src|src|bench)\/([^/]+)/.exec(url);
  return local ? `app:${local[1] === 'bench' ? 'bench' : local[2]}` : url.replace(/^file:\/\//, '');
}

function shortUrl(url: string): string {
  const at = url.lastIndexOf('node_modules/');
  if (at >= 0) return url.slice(at + 'node_modules/'.length);
  const local = /\/((dist\/)?(src|bench)\/.*)$/.exec(url);
  return local ? local[1] : url.replace(/^file:\/\//, '');
}

/** Ids of the nodes at or under a call into node:inspector: the profiler's own work (stopping, serialising). */
function profilerNodes(profile: CpuProfile): Set<number> {
  const out = new Set<number>();
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const mark = (id: number) => {
    if (out.has(id)) return;
    out.add(id);
    for (const c of byId.get(id)?.children ?? []) mark(c);
  };
  for (const n of profile.nodes) if (n.callFrame.url === 'node:inspector') mark(n.id);
  return out;
}

export function summarise(profile: CpuProfile, top = 25): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const skip = profilerNodes(profile);
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    if (!skip.has(id)) selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const fns = new Map<string, number>();
  const pkgs = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const { callFrame: f } = byId.get(id)!;
    total += us;
    if (f.functionName === '(idle)') idle += us;
    const where = f.url ? ` ${shortUrl(f.url)}:${f.lineNumber + 1}` : '';
    const key = `${f.functionName || '(anonymous)'}${where}`;
    fns.set(key, (fns.get(key) ?? 0) + us);
    const pkg = packageOf(f.url, f.functionName);
    pkgs.set(pkg, (pkgs.get(pkg) ?? 0) + us);
  }
  const busy = total - idle;
  const rank = (m: Map<string, number>, n: number): SelfTime[] =>
    [...m]
      .filter(([name]) => name !== '(idle)')
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => ({ name, ms: us / 1000, share: busy > 0 ? us / busy : 0 }));
  return { totalMs: total / 1000, busyMs: busy / 1000, functions: rank(fns, top), packages: rank(pkgs, 15) };
}

export function formatSummary(s: ProfileSummary, functions = s.functions.length, packages = 12): string {
  const pct = (x: number) => `${(x * 100).toFixed(1).padStart(5)}%`;
  const lines = [
    `profile ${(s.totalMs / 1000).toFixed(1)} s, busy ${(s.busyMs / 1000).toFixed(1)} s (${pct(s.busyMs / s.totalMs).trim()})`,
    '  self time by package:',
    ...s.packages.slice(0, packages).map((p) => `    ${pct(p.share)}  ${p.name}`),
    '  top functions by self time:',
    ...s.functions.slice(0, functions).map((f) => `    ${pct(f.share)}  ${f.ms.toFixed(0).padStart(6)} ms  ${f.name}`),
  ];
  return lines.join('\n');
}

if (require.main === module) {
  const [file, top] = process.argv.slice(2);
  if (!file) {
    console.error('usage: node -r ./tools/ts-register.js bench/cpuprofile-top.ts <file.cpuprofile> [top=25]');
    process.exit(2);
  }
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  console.log(formatSummary(summarise(profile, Number(top ?? 25))));
}
