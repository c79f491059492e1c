// Chart helpers shared by the pages. Every chart sits in an element named by `data-chart`, so the browser test can
// find it; every "nothing to show" note is named by `data-empty`. Text from the warehouse is only ever passed to
// Plot, Vega-Lite, Inputs.table or htl, which render it as text (never innerHTML).
import embed from 'vega-embed';
import { html } from 'htl';

/** A named chart container around a rendered chart element. */
export function chart(name, element) {
  const figure = document.createElement('div');
  figure.className = 'chart';
  figure.dataset.chart = name;
  figure.append(element);
  return figure;
}

/**
 * A Vega-Lite spec rendered as SVG, in a named container. vega-tooltip escapes HTML in tooltips by default. `width`
 * applies to single views; faceted specs set theirs inside `spec`. `ast: true` runs Vega's expression interpreter
 * instead of compiling expressions with `new Function`, so the preview's CSP needs no 'unsafe-eval'.
 */
export async function vegaLite(name, spec, width) {
  const element = document.createElement('div');
  await embed(element, width === undefined ? spec : { width, ...spec }, { renderer: 'svg', actions: false, ast: true });
  return chart(name, element);
}

/** What a page shows instead of a chart when the warehouse has nothing for it yet. */
export function empty(name, message) {
  return html`<div class="empty-state" data-empty=${name}>${message}</div>`;
}

/** Epoch ms → ISO date (UTC), for tables and lists. */
export const day = (ms) => (ms === null || ms === undefined ? '' : new Date(ms).toISOString().slice(0, 10));
export const time = (ms) =>
  ms === null || ms === undefined ? '' : new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
export const pct = (x) => (x === null || x === undefined ? '–' : `${(100 * x).toFixed(1)} %`);
