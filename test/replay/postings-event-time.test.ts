import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listFiles } from '../../connectors/files/list-files.ts';
import { hn2026Files } from '../../connectors/postings/hn.ts';
import { readPostingsMessages } from '../../connectors/postings/postings-messages.ts';
import { postedAt } from '../../operators/normalize/index.ts';
import type { Message } from '../../streams/kernel/transport/transport.ts';
import { dataFile } from '../data-dir.ts';

async function messagesOf(files: string[]): Promise<Message[]> {
  const out: Message[] = [];
  for await (const batch of readPostingsMessages(files, { postedAt })) out.push(...batch);
  return out;
}

describe('postings messages carry event time', () => {
  it('HN 2026: the job’s `time`, with the job’s bytes unchanged', async () => {
    const files = await hn2026Files(dataFile('postings', 'hn-hiring-2026'));
    const messages = await messagesOf(files);
    expect(messages.length).toBeGreaterThan(0);
    const jobs = new Map<string, { time: number }>();
    for (const file of files)
      for (const job of JSON.parse(readFileSync(file, 'utf8')).jobs) jobs.set(JSON.stringify(job), job);
    for (const m of messages) {
      const job = jobs.get(m.value.toString());
      expect(job, 'the message value is the job exactly as in the file').toBeDefined();
      expect(m.timestamp).toBe(job!.time * 1000);
    }
  });

  it('HN 2013–2018: the month of the file; Bright Data: the posted date', async () => {
    const hn = dataFile('postings', 'hn-hiring-2013-2018', '2015-10.json');
    const [year, month] = basename(hn, '.json').split('-').map(Number);
    const hnMessages = await messagesOf([hn]);
    const monthStart = Date.UTC(year!, month! - 1, 1);
    // Every post but the rare one the normalizer rejects (an empty post) is stamped with its month.
    expect(hnMessages.filter((m) => m.timestamp === monthStart).length).toBeGreaterThanOrEqual(hnMessages.length - 1);
    expect(hnMessages.length).toBeGreaterThan(100);

    const bright = listFiles([dataFile('postings', 'brightdata-linkedin')]);
    for (const m of await messagesOf(bright))
      expect(m.timestamp).toBe(Date.parse(JSON.parse(m.value.toString()).job_posted_date));
  });

  it('Glassdoor, which has no date: the read time', async () => {
    const before = Date.now();
    const messages = await messagesOf([dataFile('postings', 'glassdoor-2020', 'data_science.csv')]);
    const after = Date.now();
    expect(messages.length).toBeGreaterThan(0);
    for (const m of messages) expect(m.timestamp >= before && m.timestamp <= after).toBe(true);
  });
});
