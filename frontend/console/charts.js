// Charts (uPlot, vendored): a line or bar chart sized to its container, redrawn on resize.
// Each chart carries its numbers in data-* attributes (its series' totals) for tests and
// assistive summaries; the picture is the canvas.

import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import { html } from "./ui.js";

const COLORS = ["#2f6fde", "#9aa4b2", "#e0662f", "#2fa36b"];

const sum = (list) => list.reduce((a, b) => a + (b || 0), 0);

/**
 * `x`: the x values (unix seconds for time charts, indices for bar charts); `series`:
 * [{label, values}]; `labels`: for bar charts, the name of each x index.
 */
export function Chart({ id, title, x, series, labels, bars = false, summary }) {
  const box = useRef(null);
  useEffect(() => {
    const el = box.current;
    if (!el || !x.length) return undefined;
    const width = () => Math.max(200, Math.floor(el.clientWidth));
    const opts = {
      width: width(),
      height: 220,
      legend: { show: true },
      scales: { x: { time: !bars } },
      axes: [
        bars
          ? { values: (u, ticks) => ticks.map((i) => (Number.isInteger(i) ? labels?.[i] ?? "" : "")), space: 30 }
          : {},
        {},
      ],
      series: [
        { label: bars ? "" : "time" },
        ...series.map((s, i) => ({
          label: s.label,
          stroke: COLORS[i % COLORS.length],
          fill: bars ? `${COLORS[i % COLORS.length]}99` : undefined,
          width: bars ? 1 : 2,
          paths: bars ? uPlot.paths.bars({ size: [0.8 / series.length, 60], align: i ? 1 : -1 }) : undefined,
          points: { show: false },
        })),
      ],
    };
    const plot = new uPlot(opts, [x, ...series.map((s) => s.values)], el);
    const resize = new ResizeObserver(() => plot.setSize({ width: width(), height: 220 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [JSON.stringify([x, series, labels])]);
  const totals = Object.fromEntries(series.map((s, i) => [`data-total-${i}`, sum(s.values)]));
  return html`<figure class="chart" data-testid=${`chart-${id}`} data-points=${x.length} ...${totals}>
    <figcaption>${title}</figcaption>
    ${x.length ? html`<div class="chart-box" ref=${box}></div>` : html`<p class="muted">—</p>`}
    ${summary && html`<p class="visually-hidden">${summary}</p>`}
  </figure>`;
}

/** x values of a 5-minute series that starts at `start` (unix seconds). */
export function steps(start, step, n) {
  return Array.from({ length: n }, (_, i) => start + i * step);
}
