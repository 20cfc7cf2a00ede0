/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/**
 * Events per minute as bars, and the p95 receive-to-commit latency as a line on its own scale,
 * in inline SVG: no chart library, nothing to load.
 */
import type { FC } from 'hono/jsx';
import type { MinuteOfEvents } from '../queries/status';

const WIDTH = 720;
const HEIGHT = 170;
const PAD = { left: 36, right: 44, top: 12, bottom: 22 };

function formatSeconds(seconds: number): string {
  return seconds < 1 ? `${Math.round(seconds * 1000)} ms` : `${seconds.toFixed(1)} s`;
}

export const EventsChart: FC<{ minutes: MinuteOfEvents[] }> = ({ minutes }) => {
  const plotWidth = WIDTH - PAD.left - PAD.right;
  const plotHeight = HEIGHT - PAD.top - PAD.bottom;
  const maxEvents = Math.max(1, ...minutes.map((m) => m.events));
  const maxLatency = Math.max(0.001, ...minutes.map((m) => m.p95 ?? 0));
  const slot = plotWidth / Math.max(1, minutes.length);
  const x = (index: number) => PAD.left + index * slot;
  const yEvents = (value: number) => PAD.top + plotHeight - (value / maxEvents) * plotHeight;
  const yLatency = (value: number) => PAD.top + plotHeight - (value / maxLatency) * plotHeight;
  const line = minutes
    .map((m, index) => (m.p95 === null ? undefined : `${x(index) + slot / 2},${yLatency(m.p95)}`))
    .filter(Boolean)
    .join(' ');
  const total = minutes.reduce((sum, m) => sum + m.events, 0);
  const first = minutes[0]?.minute;
  const last = minutes.at(-1)?.minute;
  return (
    <svg class="chart" viewBox={`0 0 ${WIDTH} ${HEIGHT}`} width="100%" role="img" aria-label={`${total} events in the last ${minutes.length} minutes`}>
      <line x1={PAD.left} x2={WIDTH - PAD.right} y1={PAD.top + plotHeight} y2={PAD.top + plotHeight} stroke="#b9c3cf" />
      {minutes.map((m, index) =>
        m.events > 0 ? (
          <rect x={x(index) + 1} width={Math.max(1, slot - 2)} y={yEvents(m.events)} height={PAD.top + plotHeight - yEvents(m.events)} fill="#8fb3e6">
            <title>{`${m.minute.toISOString().slice(11, 16)} UTC: ${m.events} events, p50 ${m.p50 === null ? '–' : formatSeconds(m.p50)}, p95 ${m.p95 === null ? '–' : formatSeconds(m.p95)}`}</title>
          </rect>
        ) : null,
      )}
      {line ? <polyline points={line} fill="none" stroke="#b42334" stroke-width="1.5" /> : null}
      <text x={PAD.left - 4} y={PAD.top + 8} text-anchor="end">{maxEvents}</text>
      <text x={PAD.left - 4} y={PAD.top + plotHeight} text-anchor="end">0</text>
      <text x={WIDTH - PAD.right + 4} y={PAD.top + 8} fill="#b42334">{formatSeconds(maxLatency)}</text>
      {first ? <text x={PAD.left} y={HEIGHT - 6}>{first.toISOString().slice(11, 16)} UTC</text> : null}
      {last ? <text x={WIDTH - PAD.right} y={HEIGHT - 6} text-anchor="end">{last.toISOString().slice(11, 16)} UTC</text> : null}
    </svg>
  );
};
