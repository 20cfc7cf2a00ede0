/**
 * The acknowledge path under concurrency: an acknowledged event is never lost, and the edge
 * never forwards one event twice.
 */
import { identifyNotification } from '@tether/shared/notification';
import { describe, expect, it } from 'vitest';
import type { EventForwarder } from '../src/forwarder';
import { createTestEdge, deliveries, expectedEcho, notificationRequest, sddNotification } from './support/edge';

const formOf = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

describe('identical notifications at the same moment', () => {
  it('are forwarded exactly once, and every one is acknowledged in the end', async () => {
    const edge = createTestEdge();
    const fields = await sddNotification();
    const { dedupKey } = identifyNotification(fields);
    const echo = expectedEcho('unique_id', fields.unique_id!);

    const sent = await Promise.all(Array.from({ length: 20 }, () => edge.send(notificationRequest(formOf(fields)))));
    await Promise.all(sent.map(({ settled }) => settled));

    const statuses = sent.map(({ response }) => response.status);
    expect(statuses.every((status) => status === 200 || status === 503)).toBe(true);
    for (const { response, text } of sent) if (response.status === 200) expect(text).toBe(echo);
    const outcomes = edge.logs.map((entry) => entry.outcome);
    expect(outcomes.filter((outcome) => outcome === 'forwarded')).toHaveLength(1);
    expect(edge.publishes(dedupKey)).toBe(1);

    // EMP resends whatever was not echoed; by then every resend is a plain duplicate.
    for (const _ of statuses.filter((status) => status === 503)) {
      const retry = await edge.post(fields);
      expect(retry.response.status).toBe(200);
      expect(retry.text).toBe(echo);
    }
    expect(edge.publishes(dedupKey)).toBe(1);
    expect(await deliveries(dedupKey)).toBe(1);
  });
});

/** A forwarder whose first publish waits for `settle` and then succeeds or fails; later ones pass through. */
function holdFirstPublish() {
  let publishStarted!: () => void;
  const started = new Promise<void>((resolve) => (publishStarted = resolve));
  let settle!: (outcome: 'succeed' | 'fail') => void;
  const settled = new Promise<'succeed' | 'fail'>((resolve) => (settle = resolve));
  let calls = 0;
  const wrapForwarder = (forwarder: EventForwarder): EventForwarder => ({
    ...forwarder,
    async forward(event) {
      if (++calls > 1) return forwarder.forward(event);
      publishStarted();
      if ((await settled) === 'fail') throw new Error('QStash went away mid-publish');
      return forwarder.forward(event);
    },
  });
  return { wrapForwarder, started, settle };
}

/** A notification whose publish is held open, and its twin sent meanwhile. */
async function twinDuringPublish() {
  const hold = holdFirstPublish();
  const edge = createTestEdge({ wrapForwarder: hold.wrapForwarder });
  const fields = await sddNotification();
  const first = edge.send(notificationRequest(formOf(fields)));
  await hold.started;
  const twin = edge.send(notificationRequest(formOf(fields)));
  return { ...hold, edge, fields, dedupKey: identifyNotification(fields).dedupKey, first, twin };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a twin arriving while the first publish is still in flight', () => {
  it('waits, and is echoed once the first publish has succeeded; the event is forwarded once', async () => {
    const race = await twinDuringPublish();
    await pause(120);
    race.settle('succeed');

    const original = await race.first;
    expect(original.response.status).toBe(200);
    const answered = await race.twin;
    expect(answered.response.status).toBe(200);
    await Promise.all([original.settled, answered.settled]);
    expect(answered.text).toBe(expectedEcho('unique_id', race.fields.unique_id!));
    expect(race.edge.logs.map((entry) => entry.outcome).sort()).toEqual(['duplicate', 'forwarded']);
    expect(race.edge.publishes(race.dedupKey)).toBe(1);
    expect(await deliveries(race.dedupKey)).toBe(1);
  });

  it('is never acknowledged on the strength of a publish that then fails: it takes the event over and publishes it', async () => {
    const race = await twinDuringPublish();
    await pause(120);
    race.settle('fail');

    expect((await race.first).response.status).toBe(503);
    expect((await race.twin).response.status).toBe(200);
    expect(race.edge.publishes(race.dedupKey)).toBe(1);
    expect(await deliveries(race.dedupKey)).toBe(1);
  });

  it('answers 503 (retry later, no echo) when the first publish outlasts its wait', async () => {
    const race = await twinDuringPublish();
    const twin = await race.twin;
    expect(twin.response.status).toBe(503);
    expect(twin.response.headers.get('retry-after')).toBe('5');
    expect(twin.text).not.toContain('notification_echo');

    race.settle('fail');
    expect((await race.first).response.status).toBe(503);
    const retry = await race.edge.post(race.fields);
    expect(retry.response.status).toBe(200);
    expect(race.edge.publishes(race.dedupKey)).toBe(1);
    expect(await deliveries(race.dedupKey)).toBe(1);
  });
});
