/**
 * Scenario 4: bad input. A fuzz run against the edge — random bytes, oversized bodies, fields
 * missing, bad signatures, broken encodings, wrong methods and content types — and corrupt
 * upload files. No crash, no 5xx for a client's error, nothing in the database.
 */
import { MAX_NOTIFICATION_BYTES } from '@tether/shared/notification';
import { randomBytes } from 'node:crypto';
import type { Check, ScenarioResult } from '../results';
import type { E2EStack } from '../stack';
import { corruptUploads } from './uploads';

interface FuzzCase {
  kind: string;
  method?: string;
  contentType?: string;
  body?: Uint8Array | string;
}

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;
const uniqueId = () => randomBytes(16).toString('hex');

const GENERATORS: Array<() => FuzzCase> = [
  () => ({ kind: 'random bytes', contentType: 'application/x-www-form-urlencoded', body: randomBytes(1 + Math.floor(Math.random() * 2048)) }),
  () => ({ kind: 'oversized', contentType: 'application/x-www-form-urlencoded', body: `unique_id=${uniqueId()}&signature=${'a'.repeat(40)}&x=${'z'.repeat(MAX_NOTIFICATION_BYTES + 1)}` }),
  () => ({ kind: 'no unique_id', contentType: 'application/x-www-form-urlencoded', body: `transaction_type=sdd_sale&status=approved&signature=${'a'.repeat(40)}` }),
  () => ({ kind: 'no signature', contentType: 'application/x-www-form-urlencoded', body: `unique_id=${uniqueId()}&transaction_type=sdd_sale&status=approved` }),
  () => ({ kind: 'bad signature', contentType: 'application/x-www-form-urlencoded', body: `unique_id=${uniqueId()}&transaction_type=sdd_sale&status=approved&signature=${randomBytes(20).toString('hex')}` }),
  () => ({ kind: 'broken percent-encoding', contentType: 'application/x-www-form-urlencoded', body: `unique_id=%ZZ%${uniqueId()}&signature=%E0%A4%A` }),
  () => ({ kind: 'broken JSON', contentType: 'application/json', body: `{"unique_id": "${uniqueId()}", "signature": ` }),
  () => ({ kind: 'JSON of the wrong shape', contentType: 'application/json', body: pick(['[]', 'null', '42', '"x"', '{"unique_id": {"$ne": 1}, "signature": []}']) }),
  () => ({ kind: 'empty body', contentType: 'application/x-www-form-urlencoded', body: '' }),
  () => ({ kind: 'unsupported content type', contentType: pick(['text/xml', 'multipart/form-data; boundary=x', 'application/octet-stream']), body: `<unique_id>${uniqueId()}</unique_id>` }),
  () => ({ kind: 'wrong method', method: pick(['GET', 'PUT', 'DELETE', 'PATCH']) }),
];

export async function badInputScenario(stack: E2EStack, options: { requests: number; timeoutMs: number }): Promise<ScenarioResult> {
  const started = Date.now();
  const eventsBefore = (await stack.database.pool.query<{ n: number }>('select count(*)::int as n from webhook_events')).rows[0]!.n;
  const statuses: Record<string, number> = {};
  const serverErrors: string[] = [];
  for (let sent = 0; sent < options.requests; sent += 16) {
    await Promise.all(
      Array.from({ length: Math.min(16, options.requests - sent) }, async () => {
        const fuzz = pick(GENERATORS)();
        const status = await fetch(stack.urls.notifications, {
          method: fuzz.method ?? 'POST',
          headers: fuzz.contentType ? { 'content-type': fuzz.contentType } : {},
          body: fuzz.body,
          signal: AbortSignal.timeout(10_000),
        }).then(
          async (response) => {
            await response.arrayBuffer();
            return response.status;
          },
          () => 0,
        );
        const label = status === 0 ? 'no answer' : String(status);
        statuses[label] = (statuses[label] ?? 0) + 1;
        if (status === 0 || status >= 500) serverErrors.push(`${fuzz.kind}: ${label}`);
      }),
    );
  }
  // Give anything that slipped through time to travel through QStash to the database.
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  const eventsAfter = (await stack.database.pool.query<{ n: number }>('select count(*)::int as n from webhook_events')).rows[0]!.n;
  const edgeHealthy = (await fetch(`${stack.urls.edge}/health`).catch(() => undefined))?.status === 200;
  const checks: Check[] = [
    { name: 'no 5xx and no lost answer for a client error', passed: serverErrors.length === 0, detail: serverErrors.length === 0 ? 'every answer 4xx' : serverErrors.slice(0, 5).join('; ') },
    { name: 'nothing reached the database', passed: eventsAfter === eventsBefore, detail: `${eventsAfter - eventsBefore} events recorded` },
    { name: 'the edge still healthy', passed: edgeHealthy, detail: edgeHealthy ? 'GET /health 200' : 'GET /health failed' },
    ...(await corruptUploads(stack, options.timeoutMs)),
  ];
  return {
    name: 'bad input',
    description: 'Malformed, oversized and mis-signed notifications at the edge; corrupt files uploaded.',
    durationSeconds: Math.round((Date.now() - started) / 100) / 10,
    load: `${options.requests} fuzzed notifications, 6 corrupt files`,
    statuses,
    checks,
  };
}
