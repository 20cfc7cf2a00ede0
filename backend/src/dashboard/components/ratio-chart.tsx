/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/**
 * The trailing-30-day chargeback ratio, one point a day, by count (solid) and by amount (dotted),
 * with the warning threshold as a dashed line; inline SVG like the events chart.
 */
import type { FC } from 'hono/jsx';
import type { RatioPoint } from '../../reports/chargeback-ratio';

const WIDTH = 720;
const HEIGHT = 170;
const PAD = { left: 48, right: 12, top: 12, bottom: 22 };

export function formatRatio(value: number | null): string {
  return value === null ? '–' : `${(value * 100).toFixed(2)} %`;
}

export const RatioChart: FC<{ series: RatioPoint[]; warning: number; currency: string }> = ({ series, warning, currency }) => {
  const plotWidth = WIDTH - PAD.left - PAD.right;
  const plotHeight = HEIGHT - PAD.top - PAD.bottom;
  const top = Math.max(warning * 1.5, ...series.flatMap((point) => [point.byCount ?? 0, point.byAmount ?? 0]));
  const x = (index: number) => PAD.left + (series.length > 1 ? (index / (series.length - 1)) * plotWidth : plotWidth / 2);
  const y = (value: number) => PAD.top + plotHeight - (value / top) * plotHeight;
  const path = (pick: (point: RatioPoint) => number | null) =>
    series
      .map((point, index) => {
        const value = pick(point);
        return value === null ? undefined : `${x(index)},${y(value)}`;
      })
      .filter(Boolean)
      .join(' ');
  const first = series[0]?.day;
  const last = series.at(-1)?.day;
  return (
    <svg class="chart" viewBox={`0 0 ${WIDTH} ${HEIGHT}`} width="100%" role="img" aria-label={`${currency} chargeback ratio over the trailing 30 days, ${series.length} days`}>
      <line x1={PAD.left} x2={WIDTH - PAD.right} y1={PAD.top + plotHeight} y2={PAD.top + plotHeight} stroke="#b9c3cf" />
      <line x1={PAD.left} x2={WIDTH - PAD.right} y1={y(warning)} y2={y(warning)} stroke="#b42334" stroke-dasharray="6 4" data-warning={warning} />
      <polyline points={path((point) => point.byCount)} fill="none" stroke="#2f6fbf" stroke-width="1.5" data-series="count" />
      <polyline points={path((point) => point.byAmount)} fill="none" stroke="#2f6fbf" stroke-width="1.5" stroke-dasharray="2 3" data-series="amount" />
      <text x={PAD.left - 4} y={PAD.top + 8} text-anchor="end">{formatRatio(top)}</text>
      <text x={PAD.left - 4} y={y(warning) + 3} text-anchor="end" fill="#b42334">{formatRatio(warning)}</text>
      <text x={PAD.left - 4} y={PAD.top + plotHeight} text-anchor="end">0</text>
      {first ? <text x={PAD.left} y={HEIGHT - 6}>{first}</text> : null}
      {last ? <text x={WIDTH - PAD.right} y={HEIGHT - 6} text-anchor="end">{last}</text> : null}
    </svg>
  );
};
