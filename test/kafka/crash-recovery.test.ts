import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { testKafka, uniqueName } from './kafka-test-helpers.ts';

const RECORDS = 200_000;
const transport = testKafka();
afterAll(() => transport.close());

function startWorker(input: string, group: string, output: string): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/kafka/copy-worker.ts', input, group, output], {
    stdio: ['ignore', 'inherit', 'pipe'],
    env: process.env,
  });
  child.stderr!.on('data', (d) => process.stderr.write(`[worker ${child.pid}] ${d}`));
  return child;
}

const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) =>
    child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code)),
  );

describe('at-least-once on a real Kafka broker', () => {
  it('two workers, one SIGKILLed half-way and restarted: every one of 200,000 keys reaches the sink', async () => {
    const input = uniqueName('crash-in');
    const output = uniqueName('crash-out');
    const group = uniqueName('crash-group');
    await transport.ensureTopic(input, 4);
    await transport.ensureTopic(output, 4);
    const producer = await transport.producer();
    for (let start = 0; start < RECORDS; start += 20_000) {
      const messages = [];
      for (let i = start; i < start + 20_000; i++)
        messages.push({ key: `k${i}`, value: Buffer.from(`{"i":${i}}`), timestamp: 1_700_000_000_000 + i });
      await producer.send(input, messages);
    }

    // Count the sink's output as it arrives, from a separate consumer.
    const seen = new Set<string>();
    let total = 0;
    const reader = await transport.consumer({ group: uniqueName('crash-reader'), topics: [output] });
    const readUntil = async (condition: () => boolean, timeoutMs: number) => {
      const deadline = Date.now() + timeoutMs;
      while (!condition()) {
        if (Date.now() > deadline) throw new Error(`timed out with ${seen.size} distinct keys, ${total} records`);
        for (const b of await reader.poll(200)) {
          for (const m of b.messages) {
            seen.add(m.key!);
            total += 1;
          }
        }
      }
    };

    const a = startWorker(input, group, output);
    const b = startWorker(input, group, output);
    await readUntil(() => seen.size >= RECORDS / 4, 120_000);
    a.kill('SIGKILL');
    expect(await exited(a)).toBe(null); // killed, no chance to commit or flush
    const killedAt = seen.size;
    const a2 = startWorker(input, group, output);
    await readUntil(() => seen.size >= RECORDS, 180_000);

    b.kill('SIGTERM');
    a2.kill('SIGTERM');
    expect(await exited(b)).toBe(0);
    expect(await exited(a2)).toBe(0);
    await reader.close();
    await producer.close();

    expect(killedAt).toBeLessThan(RECORDS);
    expect(seen.size).toBe(RECORDS);
    for (let i = 0; i < RECORDS; i += 997) expect(seen.has(`k${i}`)).toBe(true);
    expect([...seen].every((k) => /^k\d+$/.test(k) && Number(k.slice(1)) < RECORDS)).toBe(true);
    expect(total).toBeGreaterThanOrEqual(RECORDS);
    console.log(
      `crash test: ${total} records delivered for ${RECORDS} keys (${total - RECORDS} redelivered after the crash)`,
    );
  }, 300_000);
});
