import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { UsageRow } from '../api-types';
import { money } from '../format';

const DAY_S = 86_400;
const HEIGHT = 240;

/** Days (seconds), actual cost, open estimates. */
type Series = [number[], (number | null)[], (number | null)[]];

/** Every UTC day from `from` (inclusive) to `to` (exclusive), as seconds, with the report's figures or zero. */
export function dailySeries(rows: UsageRow[], from: string, to: string): Series {
  const byDay = new Map(rows.map((r) => [r.key, r]));
  const xs: number[] = [];
  const cost: (number | null)[] = [];
  const open: (number | null)[] = [];
  const end = Math.min(Date.parse(to), Date.now() + DAY_S * 1000) / 1000;
  for (let t = Math.floor(Date.parse(from) / 1000 / DAY_S) * DAY_S; t < end; t += DAY_S) {
    const row = byDay.get(new Date(t * 1000).toISOString().slice(0, 10));
    xs.push(t);
    // A day without spend draws no bar (null), not a sliver at zero.
    cost.push(row?.cost_usd || null);
    open.push(row?.open_estimate || null);
  }
  return [xs, cost, open];
}

/** Cost per day as bars (actual cost, and the estimates of jobs not finished yet on top), drawn by uPlot. */
export function CostChart({ series }: { series: Series }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const bars = uPlot.paths.bars!({ size: [0.7, 28], align: 0 });
    // The estimate bar stands on the actual cost: it is drawn as their sum, behind the cost bar.
    const stacked = series[1].map((c, i) =>
      c === null && series[2][i] === null ? null : (c ?? 0) + (series[2][i] ?? 0),
    );
    const plot = new uPlot(
      {
        width: el.clientWidth || 640,
        height: HEIGHT,
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
        legend: { show: true },
        cursor: { points: { show: false } },
        // Half a day either side, so the first and last bars are whole.
        scales: {
          x: { time: true, range: (_u, min, max) => [min - DAY_S / 2, max + DAY_S / 2] },
          y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] },
        },
        axes: [
          { stroke: '#57606a', grid: { stroke: '#eaeef2' } },
          { stroke: '#57606a', grid: { stroke: '#eaeef2' }, values: (_u, vals) => vals.map((v) => `$${v}`), size: 60 },
        ],
        series: [
          { label: 'Day (UTC)', value: (_u, v) => (v === null ? '—' : new Date(v * 1000).toISOString().slice(0, 10)) },
          {
            label: 'Cost + open estimates',
            stroke: '#9ec5ea',
            fill: '#cfe3f5',
            paths: bars,
            points: { show: false },
            value: (_u, v) => money(v),
          },
          {
            label: 'Actual cost',
            stroke: '#1f4e79',
            fill: '#1f4e79',
            paths: bars,
            points: { show: false },
            value: (_u, v) => money(v),
          },
        ],
      },
      [series[0], stacked, series[1]],
      el,
    );
    const resize = new ResizeObserver(() => plot.setSize({ width: el.clientWidth, height: HEIGHT }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [series]);
  return <div ref={box} class="spend-chart" role="img" aria-label="Cost per day" />;
}
