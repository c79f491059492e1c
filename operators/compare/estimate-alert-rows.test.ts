import { describe, expect, it } from 'vitest';
import { tableDef } from '../../connectors/warehouse/tables.ts';
import { rowValidator } from '../../connectors/warehouse/validate.ts';
import type { ModelComparison } from './compare-models.ts';
import { estimateAlertRows } from './estimate-alert-rows.ts';

const comparison = (over: Partial<ModelComparison>): ModelComparison => ({
  pipeline: 'postings',
  window_start: Date.UTC(2026, 0, 7),
  window_end: Date.UTC(2026, 1, 6),
  model_a_id: 'postings-a',
  model_b_id: 'postings-b',
  model_a: 'postings-a@v1',
  model_b: 'postings-b@v2,v3',
  records: 412,
  agreed: 300,
  agreement: 300 / 412,
  labeled: 0,
  correct_a: 0,
  correct_b: 0,
  accuracy_a: null,
  accuracy_b: null,
  estimated_accuracy_a: 0.768,
  estimated_accuracy_b: 0.924,
  reference_accuracy_a: 0.984,
  reference_accuracy_b: 0.947,
  estimate_method: 'isotonic',
  estimate_alert_a: true,
  estimate_alert_b: false,
  version: 5,
  updated_at: 5,
  ...over,
});

describe('estimateAlertRows', () => {
  it('raises a drift_alerts row for each model whose estimate fell below its reference, before any label', () => {
    const rows = estimateAlertRows(comparison({}), 'replay-1');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      id: `replay-1/postings/postings-a/${Date.UTC(2026, 0, 7)}/accuracy/accuracy_estimate`,
      model_id: 'postings-a',
      model_version: 'v1',
      kind: 'accuracy_estimate',
      severity: 'major',
      event_time: Date.UTC(2026, 1, 6),
    });
    expect(rows[0]!.message).toBe(
      'estimated accuracy 0.768 (CBPE, isotonic) against 0.984 on its reference data, from 412 predictions, no ' +
        'labels yet',
    );
    expect(rowValidator(tableDef('drift_alerts'))(rows[0]!)).toBeUndefined();
  });

  it('keeps the id when a window re-emits with labels, says the realized accuracy, grades a small drop minor', () => {
    const [first] = estimateAlertRows(comparison({}), 'r');
    const [later] = estimateAlertRows(
      comparison({ labeled: 200, correct_a: 150, estimated_accuracy_a: 0.9, version: 9 }),
      'r',
    );
    expect(later!.id).toBe(first!.id);
    expect(later!.version).toBeGreaterThan(first!.version as number);
    expect(later!.severity).toBe('minor');
    expect(later!.message).toMatch(/realized so far 0\.750 on 200 labels/);
    expect(estimateAlertRows(comparison({ estimate_alert_a: null, estimated_accuracy_a: null }), 'r')).toEqual([]);
  });
});
