/**
 * The address of the client a request comes from, for per-client limits (the log-in throttle).
 * Behind `trustedProxies` proxies (the load balancer, and any in front of it) the socket's peer
 * is the nearest proxy, so the client is the entry the outermost trusted proxy appended to
 * X-Forwarded-For; entries left of it were written by the client and prove nothing. With no
 * trusted proxy, the socket's peer is the client and X-Forwarded-For is ignored.
 */
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';

/** What a request without a socket (app.request() in tests) counts as: one client. */
const UNKNOWN = 'unknown';

function socketAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? UNKNOWN;
  } catch {
    return UNKNOWN;
  }
}

export function clientAddress(c: Context, trustedProxies: number): string {
  if (trustedProxies === 0) return socketAddress(c);
  const hops = (c.req.header('x-forwarded-for') ?? '')
    .split(',')
    .map((hop) => hop.trim())
    .filter(Boolean);
  return hops[Math.max(0, hops.length - trustedProxies)] ?? socketAddress(c);
}
