/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/**
 * GET /dashboard: the health of every dependency (the probes of GET /health), the main
 * counters, and the event pipeline of the last hour. The live part reloads every 10 seconds.
 */
import { Hono } from 'hono';
import type { FC } from 'hono/jsx';
import { HEALTH_CHECK_DEADLINE_MS } from '../../http/health';
import { countDeadLetters } from '../../monitoring/dead-letters';
import { Badge } from '../components/badge';
import { EventsChart } from '../components/events-chart';
import type { DashboardContext } from '../context';
import { formatCount } from '../format';
import { eventsPerMinute, statusCounters } from '../queries/status';
import { page } from '../render';

/** The dead-letter queue is counted up to here; beyond, "100+" says enough. */
const DLQ_COUNT_LIMIT = 100;

/** 'unknown' when QStash does not answer within the health checks' deadline: the page must not hang on it. */
async function deadLetterCount(context: DashboardContext): Promise<string> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve('unknown'), HEALTH_CHECK_DEADLINE_MS);
  });
  const counted = countDeadLetters(context.qstash, DLQ_COUNT_LIMIT).then(
    ({ count, more }) => (more ? `${DLQ_COUNT_LIMIT}+` : String(count)),
    () => 'unknown',
  );
  try {
    return await Promise.race([counted, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

const Counts: FC<{ title: string; counts: Record<string, number>; link?: (key: string) => string }> = ({ title, counts, link }) => {
  const entries = Object.entries(counts).sort(([a], [b]) => a.localeCompare(b));
  return (
    <div class="panel">
      <h2>{title}</h2>
      {entries.length === 0 ? (
        <p class="stat-label">none yet</p>
      ) : (
        <table>
          {entries.map(([key, value]) => (
            <tr>
              <td>{link ? <a href={link(key)}><Badge value={key} /></a> : <Badge value={key} />}</td>
              <td class="num">{formatCount(value)}</td>
            </tr>
          ))}
        </table>
      )}
    </div>
  );
};

async function LiveStatus({ context }: { context: DashboardContext }) {
  const [health, counters, minutes, deadLetters] = await Promise.all([
    context.health(),
    statusCounters(context.db),
    eventsPerMinute(context.db),
    deadLetterCount(context),
  ]);
  const lastHour = minutes.reduce((sum, m) => sum + m.events, 0);
  return (
    <div id="live-status" hx-get="/dashboard/status/live" hx-trigger="every 10s" hx-swap="outerHTML">
      <div class="panel">
        <h2>
          Dependencies <Badge value={health.status === 'ok' ? 'ok' : 'down'} />
        </h2>
        <table>
          <tr>
            <th>dependency</th>
            <th>state</th>
            <th class="num">latency</th>
            <th>error</th>
          </tr>
          {Object.entries(health.checks).map(([name, check]) => (
            <tr data-dependency={name}>
              <td>{name}</td>
              <td>
                <Badge value={check.ok ? 'ok' : 'down'} />
              </td>
              <td class="num">{check.latencyMs} ms</td>
              <td>{check.error ?? ''}</td>
            </tr>
          ))}
        </table>
      </div>
      <div class="grid">
        <div class="panel">
          <div class="stat">{formatCount(lastHour)}</div>
          <div class="stat-label">EMP events in the last hour</div>
        </div>
        <div class="panel">
          <div class="stat">
            <a href="/dashboard/events/dead-letters">{deadLetters}</a>
          </div>
          <div class="stat-label">dead-lettered deliveries</div>
        </div>
        <div class="panel">
          <div class="stat">
            <a href="/dashboard/blacklist">{formatCount(counters.blacklisted)}</a>
          </div>
          <div class="stat-label">blacklisted IBANs</div>
        </div>
      </div>
      <div class="panel">
        <h2>Events per minute and p95 latency (edge receipt → commit), last hour</h2>
        <EventsChart minutes={minutes} />
      </div>
      <div class="grid">
        <Counts title="Billing attempts" counts={counters.attempts} link={(status) => `/dashboard/attempts?status=${status}`} />
        <Counts title="Uploads" counts={counters.uploads} />
        <Counts title="Events, last 24 hours" counts={counters.eventsLastDay} link={(outcome) => `/dashboard/events?outcome=${outcome}`} />
      </div>
    </div>
  );
}

export function statusPage(context: DashboardContext) {
  return new Hono()
    .get('/dashboard', (c) => page(c, 'Status', '/dashboard', <LiveStatus context={context} />))
    .get('/dashboard/status/live', (c) => c.html(<LiveStatus context={context} />));
}
