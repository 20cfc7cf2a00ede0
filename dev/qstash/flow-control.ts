/**
 * Flow control as QStash defines it: per key, at most `rate` deliveries start within any `period`,
 * and at most `parallelism` are in flight at once. Rate and parallelism are each optional.
 */
import { badRequest } from './api-error';
import { parseDurationMs } from './durations';

export interface FlowControl {
  key: string;
  rate: number | null;
  periodMs: number;
  parallelism: number | null;
}

/** Reads "parallelism=2, rate=10, period=1s" (keys case-insensitive; the official client's format). */
export function parseFlowControl(key: string, value: string): FlowControl {
  const settings = new Map<string, string>();
  for (const part of value.split(',')) {
    const [name, setting] = part.split('=').map((piece) => piece.trim());
    if (!name || !setting) throw badRequest(`invalid Upstash-Flow-Control-Value: ${value}`);
    settings.set(name.toLowerCase(), setting);
  }
  const positive = (name: string): number | null => {
    const setting = settings.get(name);
    if (setting === undefined) return null;
    const number = Number(setting);
    if (!Number.isInteger(number) || number < 1) throw badRequest(`invalid flow control ${name}: ${setting}`);
    return number;
  };
  const rate = positive('rate') ?? positive('ratepersecond');
  const parallelism = positive('parallelism');
  if (rate === null && parallelism === null) throw badRequest('flow control needs a rate or a parallelism');
  const period = settings.get('period');
  return { key, rate, parallelism, periodMs: period === undefined ? 1_000 : parseDurationMs(period) };
}

export interface FlowWindow {
  /** How many more deliveries of the key may start now. */
  available: number;
  /** When the rate allows the next start, if it is the rate that holds deliveries back. */
  nextOpeningAt: number | null;
  /** Start times still inside the period, which the next window check needs. */
  recentStarts: number[];
}

/**
 * A sliding window over recent start times, stricter than a fixed window: no span of `period`
 * ever holds more than `rate` starts, wherever it is placed.
 */
export function flowWindow(
  limits: Pick<FlowControl, 'rate' | 'periodMs' | 'parallelism'>,
  state: { recentStarts: number[]; inFlight: number },
  now: number,
): FlowWindow {
  const recentStarts = state.recentStarts.filter((start) => start > now - limits.periodMs).sort((a, b) => a - b);
  const byParallelism = limits.parallelism === null ? Infinity : limits.parallelism - state.inFlight;
  const byRate = limits.rate === null ? Infinity : limits.rate - recentStarts.length;
  const available = Math.max(0, Math.min(byParallelism, byRate));
  const nextOpeningAt =
    limits.rate !== null && byRate <= 0 ? recentStarts[recentStarts.length - limits.rate]! + limits.periodMs : null;
  return { available: available === Infinity ? Number.MAX_SAFE_INTEGER : available, nextOpeningAt, recentStarts };
}
