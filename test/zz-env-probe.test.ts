import { expect, inject, test } from 'vitest';
test('env reaches worker', async () => {
  console.log('worker pid', process.pid, 'env', process.env.KAFKA_BROKERS, process.env.CLICKHOUSE_URL, 'inject', inject('KAFKA_BROKERS'), inject('CLICKHOUSE_URL'));
  expect(process.env.KAFKA_BROKERS).toBe(inject('KAFKA_BROKERS'));
  expect(process.env.CLICKHOUSE_URL).toBe(inject('CLICKHOUSE_URL'));
  const r = await fetch(process.env.CLICKHOUSE_URL + '/?query=SELECT%201');
  expect((await r.text()).trim()).toBe('1');
});
