import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedLogTransport } from '/work/main/connectors/embedded-log/embedded-log.ts';
const P = Number(process.argv[2]);
const dir = mkdtempSync(join(tmpdir(), 'prof-'));
const log = new EmbeddedLogTransport({ dir });
await log.ensureTopic('b', P);
const pr = await log.producer();
const value = Buffer.alloc(100, 7);
for (let b = 0; b < 100; b++) {
  const batch = [];
  for (let i = 0; i < 10000; i++) batch.push({ key: `user-${(b*10000+i) % 1000}`, value, timestamp: Date.now() });
  await pr.send('b', batch);
}
for (let rep = 0; rep < 3; rep++) {
  const c = await log.consumer({ group: 'g' + rep, topics: ['b'] });
  const t = performance.now(); let n = 0, polls = 0;
  while (n < 1e6) { const got = await c.poll(100); polls++; for (const x of got) n += x.messages.length; }
  console.log(P, 'read', Math.round(n / ((performance.now() - t) / 1000)), 'polls', polls);
  await c.close();
}
rmSync(dir, { recursive: true });
