/**
 * The scenarios in order on one stack, at the short (npm test) or the long (npm run e2e) scale.
 * Each scenario runs against what the previous ones left, as production would.
 */
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import type { RunResult, ScenarioResult } from './results';
import { badInputScenario } from './scenarios/bad-input';
import { billingScenario } from './scenarios/billing';
import { forgeryScenario } from './scenarios/forgery';
import { scaleOut, stormWithFaults, webhookStorm } from './scenarios/storm';
import { uploadCrashScenario } from './scenarios/uploads';
import { E2EStack } from './stack';

export type Mode = 'short' | 'long';
export const SCENARIOS = ['billing', 'storm', 'faults', 'forgery', 'bad-input', 'scale-out'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

/** The short version runs scenarios 1, 3 and the forgery with small counts. */
export const SHORT_SCENARIOS: readonly ScenarioName[] = ['billing', 'faults', 'forgery'];

const SCALE = {
  short: {
    debtors: 300,
    faultRate: 40,
    faultSeconds: 21,
    // Long enough for the backlog alert (2 s without delivery, then a scrape and an evaluation) to fire within it.
    qstashDown: 6,
    uploadRows: 15_000,
    forgery: { variants: 300, attackRate: 30, victims: 40, genuine: { rate: 20, seconds: 15 } },
    // A notification whose publish hung through the outage is claimed at the edge for 30 s
    // (edge/src/upstash.ts) before a resend may publish it again: two such rounds must fit.
    timeoutMs: 120_000,
  },
  long: {
    debtors: 1_000,
    faultRate: 200,
    faultSeconds: 90,
    qstashDown: 10,
    uploadRows: 100_000,
    forgery: { variants: 1_000, attackRate: 50, victims: 200, genuine: { rate: 50, seconds: 30 } },
    timeoutMs: 300_000,
  },
};

const round = (values: number[]) => values.map((value) => Math.round(value * 100) / 100);

export async function runSuite(options: { mode: Mode; scenarios: readonly ScenarioName[]; logDirectory: string; onScenario?: (result: ScenarioResult) => void }): Promise<RunResult> {
  const scale = SCALE[options.mode];
  const startedAt = new Date().toISOString();
  const loadAverageAtStart = round(loadavg());
  const stack = await E2EStack.start({
    nodes: 2,
    maxNodes: 3,
    logDirectory: join(options.logDirectory, options.mode),
    // Short EMP timeouts, so that the simulator's hung sales go unknown quickly; small upload
    // batches, so that a node can be killed mid-file.
    nodeEnv: { EMP_TIMEOUT: '800', EMP_CONNECT_TIMEOUT: '500', RECONCILE_UNKNOWN_AFTER: '1500', BREAKER_HALF_OPEN_AFTER: '1000', UPLOAD_BATCH_SIZE: '1000' },
  });
  const scenarios: ScenarioResult[] = [];
  const record = (result: ScenarioResult) => {
    scenarios.push(result);
    options.onScenario?.(result);
  };
  try {
    for (const name of options.scenarios) {
      switch (name) {
        case 'billing':
          record(
            await billingScenario(stack, {
              name: 'upload, bill, notify',
              description: 'A debtor file uploaded and billed; the simulator approves most, declines some, charges a few back.',
              debtors: scale.debtors,
              firstAccount: 1_000_000,
              timeoutMs: scale.timeoutMs,
            }),
          );
          break;
        case 'storm':
          record(
            await webhookStorm(
              stack,
              [100, 250, 500, 1_000].map((rate) => ({ rate, seconds: 30 })),
              scale.timeoutMs,
            ),
          );
          break;
        case 'faults':
          record(await stormWithFaults(stack, { rate: scale.faultRate, seconds: scale.faultSeconds, qstashDownSeconds: scale.qstashDown, settleMs: scale.timeoutMs }));
          record(
            await billingScenario(stack, {
              name: 'fault: 10 % of sales time out',
              description: 'The simulator processes 10 % of sales but never answers (EMP_TIMEOUT 800 ms): they go unknown, are reconciled, and nobody is charged twice.',
              debtors: scale.debtors,
              firstAccount: 2_000_000,
              faults: { timeoutRate: 0.1, endpoints: ['process'], hangMs: 5_000 },
              timeoutMs: scale.timeoutMs,
            }),
          );
          record(
            await billingScenario(stack, {
              name: 'fault: a node killed mid-run',
              description: 'Node 2 is killed (SIGKILL) with a third of the sales sent, and started again: the claims it held go stale, reconciliation asks EMP about each, and every debtor is charged exactly once.',
              debtors: scale.debtors,
              firstAccount: 4_000_000,
              killNodeAfterSales: Math.round(scale.debtors / 3),
              timeoutMs: scale.timeoutMs,
            }),
          );
          record(await uploadCrashScenario(stack, { rows: scale.uploadRows, firstAccount: 3_000_000, timeoutMs: scale.timeoutMs }));
          break;
        case 'forgery':
          record(await forgeryScenario(stack, { ...scale.forgery, settleMs: scale.timeoutMs }));
          break;
        case 'bad-input':
          record(await badInputScenario(stack, { requests: options.mode === 'long' ? 2_000 : 200, timeoutMs: scale.timeoutMs }));
          break;
        case 'scale-out':
          record(await scaleOut(stack, { rate: 300, seconds: 60, settleMs: scale.timeoutMs }));
          break;
      }
    }
  } finally {
    await stack.close();
  }
  return {
    startedAt,
    finishedAt: new Date().toISOString(),
    mode: options.mode,
    machine: { cpus: cpus().length, loadAverageAtStart, loadAverageAtEnd: round(loadavg()), node: process.version },
    scenarios,
  };
}
