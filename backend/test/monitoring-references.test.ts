/**
 * deploy/grafana/tether.json and deploy/prometheus/alerts.yml against what a node's /metrics
 * really exposes: every `tether…` name their expressions use is a metric of a running node (a
 * histogram by its _bucket/_sum/_count series) or a series alerts.yml records, and every metric
 * operators alert on has a panel. A renamed metric fails here instead of leaving a panel empty.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestQStash } from '../../dev/testing/qstash';
import { startBackend, type TestBackend } from './support/backend';
import { createMigratedDatabase, type MigratedTestDatabase } from './support/database';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

let database: MigratedTestDatabase;
let qstash: Awaited<ReturnType<typeof startTestQStash>>;
let backend: TestBackend;
/** Metric name → type, from the # TYPE lines (prom-client writes them even for a metric with no series yet). */
let exposed: Map<string, string>;

beforeAll(async () => {
  database = await createMigratedDatabase();
  qstash = await startTestQStash(database.url);
  backend = await startBackend(database.url, qstash.server.url);
  const text = await (await fetch(`${backend.url}/metrics`)).text();
  exposed = new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((match) => [match[1]!, match[2]!]));
});

afterAll(async () => {
  await backend?.close();
  await qstash?.server.close();
  await database?.destroy();
});

const recorded = new Set([...read('deploy/prometheus/alerts.yml').matchAll(/- record: (\S+)/g)].map((match) => match[1]!));

/** The Tether series an expression reads: every `tether…` name that is not a label value. */
function namesIn(expression: string): string[] {
  const withoutStrings = expression.replace(/"[^"]*"/g, '""');
  return [...withoutStrings.matchAll(/\btether[a-z0-9_:]*/g)].map((match) => match[0]);
}

function isExposed(name: string): boolean {
  if (recorded.has(name) || exposed.has(name)) return true;
  const histogram = /^(.*)_(bucket|sum|count)$/.exec(name);
  return histogram !== null && exposed.get(histogram[1]!) === 'histogram';
}

const dashboard = JSON.parse(read('deploy/grafana/tether.json')) as { panels: Array<{ title: string; type: string; targets?: Array<{ expr: string }> }> };
const panelExpressions = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ where: `panel "${panel.title}"`, expr: target.expr })));
const ruleExpressions = [...read('deploy/prometheus/alerts.yml').matchAll(/- (?:alert|record): (\S+)\n(?:\s+#.*\n)*\s+expr: (\|\n(?:\s{10,}.*\n)+|.*\n)/g)].map((match) => ({
  where: `rule ${match[1]}`,
  expr: match[2]!,
}));

describe('monitoring references', () => {
  it('reads every rule and every panel', () => {
    expect(ruleExpressions.length).toBe([...read('deploy/prometheus/alerts.yml').matchAll(/- (?:alert|record):/g)].length);
    expect(panelExpressions.length).toBeGreaterThan(10);
  });

  it("uses only metrics a node's /metrics exposes or alerts.yml records", () => {
    expect(exposed.size).toBeGreaterThan(20);
    const unknown = [...panelExpressions, ...ruleExpressions].flatMap(({ where, expr }) => namesIn(expr).filter((name) => !isExposed(name)).map((name) => `${where}: ${name}`));
    expect(unknown).toEqual([]);
  });

  it('has a panel for every metric operators alert on', () => {
    const charted = new Set(panelExpressions.flatMap(({ expr }) => namesIn(expr)));
    const alertedOn = new Set(ruleExpressions.flatMap(({ expr }) => namesIn(expr)));
    const operational = [...exposed.keys()].filter((name) => /^tether_(qstash|events_waiting|events_oldest|events_last|uploads$|attempts_changed|db_pool|emp_rate_limit|billing_breaker|metrics_source)/.test(name));
    expect(operational.length).toBeGreaterThanOrEqual(14);
    const missing = [...new Set([...alertedOn, ...operational])].filter((name) => !charted.has(name));
    expect(missing).toEqual([]);
  });
});
