// "Data taken … from … run …": every page says when and from which warehouse and runs its data came.
import { html } from 'htl';

export function pageMeta(meta) {
  const runs =
    meta.runs.length === 0 ? 'no run recorded yet' : meta.runs.map((r) => `${r.pipeline} ${r.run_id}`).join(', ');
  // htl escapes interpolated values: run ids and locations are shown as text.
  const taken = `Data taken ${meta.taken_at} from the ${meta.warehouse} warehouse (${meta.location})`;
  return html`<p class="page-meta" data-page-meta>${taken}; runs: ${runs}.</p>`;
}
