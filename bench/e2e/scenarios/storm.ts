/**
 * Scenarios 2, 3 (the faults that strike the notification path) and 5: a webhook storm through
 * the edge, with a node killed, QStash stopped, Redis flushed, or a node added while it runs.
 */
import { EmpSender } from '../emp';
import type { ScenarioResult } from '../results';
import { cpuPerEvent, judgeStorm, planStorm, runStorm, type StormFault, type StormJudgement, type StormPhase, type StormRun } from '../storm';
import { AlertWatcher, BACKLOG_ALERT } from '../../support/prometheus';
import { waitUntil } from '../../support/processes';
import { E2E_BACKLOG_ALERT_SECONDS, type E2EStack } from '../stack';

const totalOf = (phases: StormPhase[]) => phases.reduce((sum, phase) => sum + phase.rate * phase.seconds, 0);
const describeLoad = (phases: StormPhase[]) => `${phases.map((phase) => `${phase.rate}/s for ${phase.seconds} s`).join(' → ')}, 5 % duplicates, statuses reordered, EMP's state final before the first`;

type StormScenario = { name: string; description: string; phases: StormPhase[] };

function stormResult(scenario: StormScenario, run: StormRun, judged: StormJudgement): ScenarioResult {
  return {
    name: scenario.name,
    description: scenario.description,
    durationSeconds: Math.round(run.durationSeconds * 10) / 10,
    load: describeLoad(scenario.phases),
    latencyMs: run.sender.latency(),
    events: judged.events,
    statuses: run.sender.statuses,
    timeline: run.sender.timeline(),
    markers: run.markers,
    checks: judged.checks,
    figures: {
      ...judged.figures,
      ...Object.fromEntries(
        run.recordedPerSecond.flatMap((rate, index) => [
          [`phase ${index + 1}: recorded/s`, rate],
          [`phase ${index + 1}: settled/s`, run.settledPerSecond[index]!],
        ]),
      ),
    },
  };
}

async function storm(stack: E2EStack, scenario: StormScenario & { faults?: StormFault[]; settleMs: number }): Promise<ScenarioResult> {
  // ~2.2 notifications per attempt, duplicates included.
  const plan = await planStorm(stack, Math.ceil(totalOf(scenario.phases) / 2.2));
  const cpuBefore = stack.cpuSeconds();
  const run = await runStorm(stack, plan, scenario.phases, scenario.faults);
  const judged = await judgeStorm(stack, plan, run, scenario.settleMs);
  const result = stormResult(scenario, run, judged);
  result.figures = { ...result.figures, ...cpuPerEvent(cpuBefore, stack.cpuSeconds(), judged.events.applied) };
  return result;
}

export async function webhookStorm(stack: E2EStack, phases: StormPhase[], settleMs: number): Promise<ScenarioResult> {
  const result = await storm(stack, {
    name: 'webhook storm',
    description: 'EMP notifications at a rising rate through the edge, QStash, HAProxy and two nodes.',
    phases,
    settleMs,
  });
  const fiveHundreds = Number(result.figures?.['5xx answers'] ?? 0);
  result.checks.push({ name: 'zero 5xx from the edge', passed: fiveHundreds === 0, detail: `${fiveHundreds} answers 5xx` });
  return result;
}

/**
 * The storm with its three faults one after another, each undone before the next: a node
 * killed (and restarted), QStash stopped for `qstashDownSeconds`, then Redis flushed and
 * the notifications already echoed sent again, which the edge can no longer recognise.
 * Prometheus watches throughout: the QStash backlog alert must fire during the outage and
 * resolve after it.
 */
export async function stormWithFaults(stack: E2EStack, options: { rate: number; seconds: number; qstashDownSeconds: number; settleMs: number }): Promise<ScenarioResult> {
  const third = options.seconds / 3;
  const phases = [{ rate: options.rate, seconds: options.seconds }];
  const plan = await planStorm(stack, Math.ceil(totalOf(phases) / 2.2));
  // After the flush, EMP sends again what it sent before: duplicates the edge cannot recognise.
  const sentBeforeFlush = plan.notifications.slice(0, Math.floor(plan.notifications.length * 0.6)).slice(-Math.max(20, options.rate));
  const duplicates = new EmpSender(stack.urls.notifications, { resendAfterMs: 1_000, timeoutMs: 10_000, maxInFlight: 64 });
  let resending: Promise<void> | undefined;
  const alerts = new AlertWatcher(stack.urls.prometheus, BACKLOG_ALERT);
  const outage: { stoppedAt?: number; backAt?: number } = {};
  const faults: StormFault[] = [
    { atSecond: third * 0.3, label: 'node 2 killed', act: () => stack.killNode(1) },
    { atSecond: third * 0.8, label: 'node 2 back', act: () => stack.startNode(1) },
    {
      atSecond: third * 1.2,
      label: 'QStash stopped',
      act: async () => {
        await stack.stopQStash();
        outage.stoppedAt = alerts.secondsSinceStart;
      },
    },
    {
      atSecond: third * 1.2 + options.qstashDownSeconds,
      label: 'QStash back',
      act: async () => {
        await stack.startQStash();
        outage.backAt = alerts.secondsSinceStart;
      },
    },
    {
      atSecond: third * 2.4,
      label: 'Redis flushed',
      act: async () => {
        await stack.flushRedis();
        resending = duplicates.sendAtRate(sentBeforeFlush, options.rate);
      },
    },
  ];
  const run = await runStorm(stack, plan, phases, faults);
  await resending;
  const duplicatesError = await duplicates.drain(options.settleMs).then(
    () => undefined,
    (error: Error) => error.message,
  );
  const judged = await judgeStorm(stack, plan, run, options.settleMs);
  judged.checks.push(...(await judgeBacklogAlert(alerts, outage)));
  const redelivered = Number(judged.figures['deliveries beyond the first (absorbed by the backend)']);
  // The edge forwards each event with its dedup key as QStash's deduplication id, so QStash
  // itself drops most of these; what gets past it (a delivery cut by the node kill, say) meets
  // the backend's own deduplication.
  judged.checks.push({
    name: 'duplicates past a flushed Redis echoed and applied once',
    passed: resending !== undefined && duplicates.pending === 0 && judged.events.duplicated === 0,
    detail: `${sentBeforeFlush.length} notifications sent again after the flush, ${duplicates.echoed.size} distinct echoed; ${redelivered} deliveries beyond the first reached the backend and were recognised${duplicatesError ? `; ${duplicatesError}` : ''}`,
  });
  judged.checks.push({
    name: 'while QStash was down the edge answered 5xx (EMP retried later)',
    passed: Number(judged.figures['5xx answers']) > 0,
    detail: `${judged.figures['5xx answers']} answers 5xx`,
  });
  const result = stormResult(
    {
      name: 'faults during the storm',
      description: `One node killed and restarted; QStash stopped for ${options.qstashDownSeconds} s; Redis flushed and earlier notifications sent again.`,
      phases,
    },
    run,
    judged,
  );
  result.figures = { ...result.figures, 'sent again after the Redis flush': sentBeforeFlush.length };
  return result;
}

/** Seconds the backlog alert may take to show after QStash is back: a probe delivered, a scrape, an evaluation. */
const ALERT_SLACK_SECONDS = 5;

/**
 * The backlog alert, as Prometheus reported it at /api/v1/alerts: firing between QStash's stop and
 * shortly after its return, and no longer firing once the storm has settled.
 */
async function judgeBacklogAlert(alerts: AlertWatcher, outage: { stoppedAt?: number; backAt?: number }): Promise<StormJudgement['checks']> {
  const { stoppedAt, backAt } = outage;
  const resolved = await waitUntil(async () => !(await alerts.firingNow()), 30_000, 'the backlog alert resolving', 250).then(
    () => true,
    () => false,
  );
  alerts.stop();
  const lastFiring = alerts.firingAt.at(-1);
  const seen = (from: number, to: number) => alerts.firingAt.filter((at) => at >= from && at <= to);
  const during = stoppedAt !== undefined && backAt !== undefined ? seen(stoppedAt, backAt + ALERT_SLACK_SECONDS) : [];
  const outside = alerts.firingAt.length - during.length;
  const at = (seconds: number | undefined) => (seconds === undefined ? 'never' : `${seconds.toFixed(1)} s`);
  const errors = alerts.errors.length > 0 ? `; ${alerts.errors.length} reads of /api/v1/alerts failed (${alerts.errors[0]})` : '';
  return [
    {
      name: `Prometheus: ${BACKLOG_ALERT} fired while QStash was down`,
      passed: during.length > 0,
      detail: `QStash stopped at ${at(stoppedAt)}, back at ${at(backAt)}; alert (> ${E2E_BACKLOG_ALERT_SECONDS} s without delivery) first seen firing at ${at(during[0])}${outside > 0 ? `; also seen firing ${outside} times outside the outage` : ''}${errors}`,
    },
    {
      name: `Prometheus: ${BACKLOG_ALERT} resolved after QStash came back`,
      passed: resolved,
      detail: resolved
        ? `last seen firing at ${at(lastFiring)}${lastFiring !== undefined && backAt !== undefined ? `, ${(lastFiring - backAt).toFixed(1)} s after QStash was back` : ''}; not firing once the storm had settled`
        : 'still firing 30 s after the storm settled',
    },
  ];
}

async function processedOn(nodeUrl: string): Promise<number> {
  const text = await fetch(`${nodeUrl}/metrics`).then((response) => response.text(), () => '');
  return [...text.matchAll(/^tether_events_processed_total\{[^}]*\} (\S+)$/gm)].reduce((sum, match) => sum + Number(match[1]), 0);
}

/** Scenario 5: a third node joins half-way through the storm; it must take a share of the work. */
export async function scaleOut(stack: E2EStack, options: { rate: number; seconds: number; settleMs: number }): Promise<ScenarioResult> {
  const half = options.seconds / 2;
  const result = await storm(stack, {
    name: 'scale out',
    description: 'A third node started half-way through the storm; HAProxy sends it work once its health check passes.',
    phases: [
      { rate: options.rate, seconds: half },
      { rate: options.rate, seconds: half },
    ],
    faults: [{ atSecond: half - 8, label: 'node 3 starting', act: () => stack.startNode(2) }],
    settleMs: options.settleMs,
  });
  const third = await processedOn(stack.urls.nodes[2]!);
  result.checks.push({ name: 'the third node took a share of the events', passed: third > 0, detail: `node 3 processed ${third} events` });
  result.figures = { ...result.figures, 'events processed by node 3': third };
  return result;
}
