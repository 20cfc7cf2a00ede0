/**
 * What one end-to-end run found, scenario by scenario: the checks made against the database
 * (not just HTTP codes), the load applied and the latency it met. The report writer turns a
 * run into markdown, JSON and a latency plot under bench/results/.
 */

export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** One check against the end state: passed or not, with what was found. */
export interface Check {
  name: string;
  passed: boolean;
  detail: string;
}

/** Acknowledge latencies in one second of a scenario, for the plot. */
export interface LatencySecond {
  /** Seconds since the scenario started. */
  second: number;
  sent: number;
  p50: number;
  p99: number;
}

/** A moment in a scenario worth marking on its plot (a node killed, QStash stopped, ...). */
export interface Marker {
  second: number;
  label: string;
}

export interface ScenarioResult {
  name: string;
  description: string;
  durationSeconds: number;
  /** What was applied, e.g. "100 → 1,000 notifications/s, 5 % duplicates". */
  load: string;
  /** Acknowledge latency at the edge in ms, over every answered notification. */
  latencyMs?: LatencySummary;
  /** Notifications or attempts, depending on the scenario. */
  events?: { sent: number; unique: number; applied: number; lost: number; duplicated: number };
  /** HTTP statuses the edge answered, e.g. { "200": 9500, "401": 90 }. */
  statuses?: Record<string, number>;
  timeline?: LatencySecond[];
  markers?: Marker[];
  checks: Check[];
  /** Anything else worth reporting (throughput per phase, double charges, ...). */
  figures?: Record<string, number | string>;
}

export interface RunResult {
  startedAt: string;
  finishedAt: string;
  /** "short" (npm test) or "long" (npm run e2e). */
  mode: 'short' | 'long';
  machine: { cpus: number; loadAverageAtStart: number[]; loadAverageAtEnd: number[]; node: string };
  scenarios: ScenarioResult[];
}

export const scenarioPassed = (scenario: ScenarioResult) => scenario.checks.length > 0 && scenario.checks.every((check) => check.passed);
