/**
 * deploy/prometheus/ as operators ship it: the alert rules and the example configuration pass
 * promtool's checks, and alerts.test.yml (each alert firing and not firing) passes
 * `promtool test rules`. A rule file that breaks a test makes this fail with promtool's report.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PROMETHEUS_DEPLOY_DIRECTORY, promtool } from '../../dev/testing/prometheus';
import { requireSystemTool } from '../../scripts/system-tools';

beforeAll(() => {
  requireSystemTool('promtool');
});

describe('deploy/prometheus', () => {
  it('alerts.yml and prometheus.yml pass promtool check', () => {
    const rules = promtool(['check', 'rules', 'alerts.yml']);
    expect(rules.status, rules.output).toBe(0);
    const config = promtool(['check', 'config', 'prometheus.yml']);
    expect(config.status, config.output).toBe(0);
  });

  it('every alert has a unit test in alerts.test.yml, and they pass', () => {
    const alerts = [...readFileSync(join(PROMETHEUS_DEPLOY_DIRECTORY, 'alerts.yml'), 'utf8').matchAll(/^\s+- alert: (\w+)$/gm)].map((match) => match[1]);
    const tests = readFileSync(join(PROMETHEUS_DEPLOY_DIRECTORY, 'alerts.test.yml'), 'utf8');
    expect(alerts.length).toBeGreaterThan(0);
    for (const alert of alerts) {
      // Firing (with its labels) and not firing.
      expect(tests, alert).toMatch(new RegExp(`alertname: ${alert}\\n\\s+exp_alerts:\\n\\s+- exp_labels`));
      expect(tests, alert).toMatch(new RegExp(`alertname: ${alert}\\n\\s+exp_alerts: \\[\\]`));
    }
    const result = promtool(['test', 'rules', 'alerts.test.yml']);
    expect(result.status, result.output).toBe(0);
  }, 120_000);

  it('promtool test rules fails when a rule no longer does what its test says', () => {
    const directory = mkdtempSync(join(tmpdir(), 'tether-rules-'));
    try {
      // The header and the backlog alert's test only: the whole file takes a while.
      const [header, ...groups] = readFileSync(join(PROMETHEUS_DEPLOY_DIRECTORY, 'alerts.test.yml'), 'utf8').split('\n  - name: ');
      const backlog = groups.filter((group) => group.includes('alertname: TetherQStashBacklogOld'));
      expect(backlog).toHaveLength(1);
      writeFileSync(join(directory, 'alerts.test.yml'), [header, ...backlog].join('\n  - name: '));
      const rules = readFileSync(join(PROMETHEUS_DEPLOY_DIRECTORY, 'alerts.yml'), 'utf8');
      const broken = rules.replace('(tether_qstash_oldest_undelivered_seconds) > 300', '(tether_qstash_oldest_undelivered_seconds) > 3000');
      expect(broken).not.toBe(rules);
      writeFileSync(join(directory, 'alerts.yml'), broken);
      const result = promtool(['test', 'rules', 'alerts.test.yml'], directory);
      expect(result.status).not.toBe(0);
      expect(result.output).toContain('TetherQStashBacklogOld');
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  }, 120_000);
});
