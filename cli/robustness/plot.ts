/**
 * Plots of a robustness sweep as SVG, from vega-lite specifications rendered headless with vega
 * (View.toSVG, no browser or canvas): test accuracy against mismatch scale with one line per
 * condition (mean over chip seeds, band from the lowest to the highest seed), one panel per
 * T_pres and tau_s; and, when the sweep covers several T_pres, accuracy against T_pres.
 */
import * as vega from 'vega';
import * as vl from 'vega-lite';
import { aggregate } from './results.js';
import type { CellResult } from './keys.js';

type Row = ReturnType<typeof aggregate>[number];

/** Renders a vega-lite specification to SVG text. */
export async function renderSvg(spec: vl.TopLevelSpec): Promise<string> {
  const compiled = vl.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** A label for a panel: its T_pres and synaptic filter. */
function panel(r: Row): string {
  return `T_pres ${r.t_pres_ms} ms` + (r.tau_s_ms > 0 ? `, tau_s ${r.tau_s_ms} ms` : '');
}

/** Accuracy (%) against mismatch scale, one line per condition, spread over chip seeds as a band. */
export async function accuracyVsMismatchSvg(cells: CellResult[], title: string): Promise<string> {
  const rows = aggregate(cells).map((r) => ({
    ...r,
    panel: panel(r),
    mean: 100 * r.accuracy_mean,
    lo: 100 * r.accuracy_min,
    hi: 100 * r.accuracy_max,
  }));
  const panels = new Set(rows.map((r) => r.panel));
  const x = { field: 'mismatch_scale', type: 'quantitative' as const, title: 'mismatch scale (x preset sigma)' };
  const color = { field: 'condition', type: 'nominal' as const, title: 'condition', sort: ['raw', 'calibrated', 'tau-adapted', 'both'] };
  const layer = [
    { mark: { type: 'area' as const, opacity: 0.18 }, encoding: { x, y: { field: 'lo', type: 'quantitative' as const, title: 'test accuracy (%)', scale: { zero: false } }, y2: { field: 'hi' }, color } },
    {
      mark: { type: 'line' as const, point: true },
      encoding: {
        x,
        y: { field: 'mean', type: 'quantitative' as const, title: 'test accuracy (%)', scale: { zero: false } },
        color,
        tooltip: [{ field: 'condition' }, { field: 'mismatch_scale' }, { field: 'mean', format: '.2f' }, { field: 'seeds' }],
      },
    },
  ];
  const spec: vl.TopLevelSpec =
    panels.size > 1
      ? { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', title, data: { values: rows }, facet: { field: 'panel', type: 'nominal', title: null }, columns: 2, spec: { width: 320, height: 220, layer } }
      : { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', title: `${title} (${[...panels][0] ?? ''})`, data: { values: rows }, width: 420, height: 280, layer };
  return renderSvg(spec);
}

/** Accuracy (%) against T_pres (log axis), one line per condition and mismatch scale; null with one T_pres. */
export async function accuracyVsTpresSvg(cells: CellResult[], title: string): Promise<string | null> {
  const rows = aggregate(cells).map((r) => ({ ...r, mean: 100 * r.accuracy_mean, series: `${r.condition}, scale ${r.mismatch_scale}` + (r.tau_s_ms > 0 ? `, tau_s ${r.tau_s_ms}` : '') }));
  if (new Set(rows.map((r) => r.t_pres_ms)).size < 2) return null;
  return renderSvg({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    data: { values: rows },
    width: 420,
    height: 280,
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 't_pres_ms', type: 'quantitative', title: 'T_pres (ms)', scale: { type: 'log' } },
      y: { field: 'mean', type: 'quantitative', title: 'test accuracy (%)', scale: { zero: false } },
      color: { field: 'series', type: 'nominal', title: 'condition, mismatch' },
    },
  });
}
