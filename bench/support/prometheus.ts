/**
 * A real Prometheus (Debian's) watching the end-to-end stack: it scrapes every backend node slot
 * and evaluates deploy/prometheus/alerts.yml, with one change for a run that lasts seconds, not
 * hours: the QStash backlog alert's threshold and `for:` are scaled down (backlogRulesForTests).
 * The harness reads the alerts as an operator's Alertmanager would see them, from /api/v1/alerts.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROMETHEUS_DEPLOY_DIRECTORY } from '../../dev/testing/prometheus';
import { requireSystemTool } from '../../scripts/system-tools';
import { startCommand, waitForUrl } from './processes';

export const BACKLOG_ALERT = 'TetherQStashBacklogOld';

/**
 * alerts.yml with the backlog alert firing after `thresholdSeconds` without delivery and no `for:`
 * (the shipped 5 minutes and 1 minute would outlast the outage). Everything else as shipped; a
 * change to the shipped rule that this no longer matches fails here, loudly.
 */
export function backlogRulesForTests(thresholdSeconds: number): string {
  const rules = readFileSync(join(PROMETHEUS_DEPLOY_DIRECTORY, 'alerts.yml'), 'utf8');
  const start = rules.indexOf(`- alert: ${BACKLOG_ALERT}\n`);
  const end = rules.indexOf('- alert:', start + 1);
  if (start < 0 || end < 0) throw new Error(`alerts.yml has no ${BACKLOG_ALERT} rule followed by another`);
  const shipped = rules.slice(start, end);
  const scaled = shipped.replace('(tether_qstash_oldest_undelivered_seconds) > 300\n', `(tether_qstash_oldest_undelivered_seconds) > ${thresholdSeconds}\n`).replace('for: 1m\n', 'for: 0s\n');
  if (!scaled.includes(`> ${thresholdSeconds}\n`) || !scaled.includes('for: 0s\n')) throw new Error(`${BACKLOG_ALERT} in alerts.yml no longer reads "> 300" with "for: 1m": update bench/support/prometheus.ts`);
  return rules.slice(0, start) + scaled + rules.slice(end);
}

export interface RunningPrometheus {
  url: string;
  child: ChildProcess;
}

export async function startPrometheus(options: {
  port: number;
  targets: string[];
  rules: string;
  directory: string;
  log: string;
  /** Scrape and evaluation interval. */
  intervalSeconds: number;
}): Promise<RunningPrometheus> {
  const prometheus = requireSystemTool('prometheus');
  mkdirSync(options.directory, { recursive: true });
  const interval = `${options.intervalSeconds}s`;
  writeFileSync(join(options.directory, 'alerts.yml'), options.rules);
  // JSON is YAML: no YAML writer needed.
  const config = {
    global: { scrape_interval: interval, scrape_timeout: interval, evaluation_interval: interval },
    rule_files: ['alerts.yml'],
    scrape_configs: [{ job_name: 'tether', static_configs: [{ targets: options.targets }] }],
  };
  writeFileSync(join(options.directory, 'prometheus.yml'), JSON.stringify(config, null, 2));
  const url = `http://127.0.0.1:${options.port}`;
  const child = startCommand(
    prometheus,
    [
      `--config.file=${join(options.directory, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(options.directory, 'data')}`,
      `--web.listen-address=127.0.0.1:${options.port}`,
      '--log.level=warn',
    ],
    {},
    { log: options.log },
  );
  await waitForUrl(`${url}/-/ready`, 'Prometheus', child);
  return { url, child };
}

export interface AlertState {
  alertname: string;
  state: 'pending' | 'firing';
}

/** The alerts Prometheus holds now (inactive ones are not listed). */
export async function currentAlerts(prometheusUrl: string): Promise<AlertState[]> {
  const response = await fetch(`${prometheusUrl}/api/v1/alerts`, { signal: AbortSignal.timeout(5_000) });
  const body = (await response.json()) as { data: { alerts: Array<{ labels: { alertname: string }; state: AlertState['state'] }> } };
  return body.data.alerts.map((alert) => ({ alertname: alert.labels.alertname, state: alert.state }));
}

/** When one alert was seen firing, polling /api/v1/alerts, as seconds since the watch began. */
export class AlertWatcher {
  readonly firingAt: number[] = [];
  readonly errors: string[] = [];
  private readonly started = Date.now();
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(
    private readonly prometheusUrl: string,
    private readonly alertname: string,
    everyMs = 250,
  ) {
    this.timer = setInterval(() => void this.poll(), everyMs);
  }

  get secondsSinceStart(): number {
    return (Date.now() - this.started) / 1000;
  }

  async firingNow(): Promise<boolean> {
    return (await currentAlerts(this.prometheusUrl)).some((alert) => alert.alertname === this.alertname && alert.state === 'firing');
  }

  private async poll() {
    const at = this.secondsSinceStart;
    try {
      if (await this.firingNow()) this.firingAt.push(at);
    } catch (error) {
      this.errors.push((error as Error).message);
    }
  }

  /** Whether it was seen firing between the two moments (seconds since the watch began). */
  firedBetween(from: number, to: number): boolean {
    return this.firingAt.some((at) => at >= from && at <= to);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
