/**
 * QStash's duration strings: a number and a unit, possibly chained ("50s", "3m", "1d10h30m").
 * A bare number counts as seconds, which is what the official client sends for numeric delays.
 */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDurationMs(text: string): number {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1_000;
  const parts = [...trimmed.matchAll(/(\d+)(ms|s|m|h|d)/g)];
  if (parts.length === 0 || parts.map((part) => part[0]).join('') !== trimmed) {
    throw new Error(`invalid duration: ${text}`);
  }
  return parts.reduce((total, [, amount, unit]) => total + Number(amount) * UNIT_MS[unit!]!, 0);
}

/** The response headers by which a destination says when QStash should retry, in QStash's order. */
const RETRY_AFTER_HEADERS = ['retry-after', 'x-ratelimit-reset', 'x-ratelimit-reset-requests', 'x-ratelimit-reset-tokens'];
/** Longer than QStash's longest backoff step: its own backoff applies instead. */
const MAX_RETRY_AFTER_MS = 86_400_000;
const GO_UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** A Go duration as QStash reads it ("6m5s", "1.5s", "300ms"), in milliseconds, or undefined. */
function goDurationMs(text: string): number | undefined {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((part) => part[0]).join('') !== text) return undefined;
  return parts.reduce((total, [, amount, unit]) => total + Number(amount) * GO_UNIT_MS[unit!]!, 0);
}

/**
 * When the destination asked to be retried (QStash's "Retry-After Headers"): seconds, an RFC 1123
 * date or a duration, from `now`; undefined without such a header, or beyond one day.
 */
export function retryAfterMs(headers: Record<string, string[]>, now: number): number | undefined {
  for (const name of RETRY_AFTER_HEADERS) {
    const value = headers[name]?.[0]?.trim();
    if (!value) continue;
    const wait = /^\d+$/.test(value) ? Number(value) * 1_000 : (goDurationMs(value) ?? Date.parse(value) - now);
    if (!Number.isFinite(wait)) continue;
    return wait <= MAX_RETRY_AFTER_MS ? Math.max(0, wait) : undefined;
  }
  return undefined;
}
