import { describe, expect, it } from 'vitest';
import type { Message } from '../../streams/kernel/transport/transport.ts';
import { type TransactionRequest, TransactionOutbox, transactionalId } from './transaction-outbox.ts';

const from = (partition: number, offset: number, text: string): Message => ({
  key: null,
  value: Buffer.from(text),
  timestamp: 0,
  origin: { topic: 'in', partition, offset },
});

function outbox(fail = () => false) {
  const sent: TransactionRequest[] = [];
  const box = new TransactionOutbox({
    run: async (request) => {
      if (fail()) throw new Error('broker gone');
      sent.push(request);
    },
    consumer: () => ({
      group: 'g',
      assigned: [
        { topic: 'in', partition: 1 },
        { topic: 'in', partition: 0 },
      ],
    }),
  });
  const texts = (request: TransactionRequest) =>
    request.topicMessages.flatMap((t) => t.messages.map((m) => `${t.topic}:${m.value.toString()}`));
  return { box, sent, texts };
}

describe('TransactionOutbox', () => {
  it('sends a message in the transaction that commits its input, with those offsets; later ones wait', async () => {
    const { box, sent, texts } = outbox();
    box.hold('out', [from(0, 4, 'a'), from(0, 9, 'b'), from(1, 2, 'c')]);
    box.hold('dlq', [from(0, 5, 'd')]);
    await box.commit([{ topic: 'in', partition: 0, offset: 6 }]);
    expect(texts(sent[0]!)).toEqual(['out:a', 'dlq:d']);
    expect(sent[0]!.offsets).toEqual({
      consumerGroupId: 'g',
      topics: [{ topic: 'in', partitions: [{ partition: 0, offset: '6' }] }],
    });
    expect(sent[0]!.transactionalId).toBe('g.eos.in-0,in-1');
    expect(box.pending).toBe(2);

    await box.commit([{ topic: 'in', partition: 1, offset: 3 }]); // partition 0 stays committed at 6: b still waits
    expect(texts(sent[1]!)).toEqual(['out:c']);
    await box.commit([{ topic: 'in', partition: 0, offset: 10 }]);
    expect(texts(sent[2]!)).toEqual(['out:b']);
    expect(box.pending).toBe(0);
  });

  it('keeps everything when a transaction fails, and drops what revoked partitions derived', async () => {
    let failing = true;
    const { box, sent, texts } = outbox(() => failing);
    box.hold('out', [from(0, 1, 'a'), from(1, 1, 'b')]);
    await expect(box.commit([{ topic: 'in', partition: 0, offset: 2 }])).rejects.toThrow('broker gone');
    expect(box.pending).toBe(2);
    box.revoke([{ topic: 'in', partition: 1 }]);
    failing = false;
    await box.commit([{ topic: 'in', partition: 0, offset: 2 }]);
    expect(texts(sent[0]!)).toEqual(['out:a']);
    expect(box.pending).toBe(0);
  });

  it('names the transactional id after the group and the partitions held, in a stable order', () => {
    expect(
      transactionalId('grp', [
        { topic: 't', partition: 3 },
        { topic: 't', partition: 0 },
      ]),
    ).toBe(
      transactionalId('grp', [
        { topic: 't', partition: 0 },
        { topic: 't', partition: 3 },
      ]),
    );
    expect(transactionalId('grp', [{ topic: 't', partition: 0 }])).not.toBe(
      transactionalId('grp', [{ topic: 't', partition: 1 }]),
    );
  });
});
