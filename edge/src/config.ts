/**
 * Edge configuration, parsed once with zod from Worker bindings or process.env. A missing or
 * wrong variable becomes one line naming it (ConfigError), never a stack trace, and the
 * message never repeats a value, so a secret cannot leak through it.
 */
import { MAX_NOTIFICATION_BYTES } from '@tether/shared/notification';
import { z } from 'zod';

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });
const secret = z.string({ error: 'is required' }).min(1, 'is required');
const positiveInt = z.coerce.number({ error: 'must be a number' }).int('must be a whole number').positive('must be positive');
/** Unset and empty mean the same: wrangler and shells both produce empty strings for "not set". */
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (value === '' ? undefined : value), schema.optional());

const envSchema = z.object({
  UPSTASH_REDIS_REST_URL: httpUrl,
  UPSTASH_REDIS_REST_TOKEN: secret,
  QSTASH_URL: optional(httpUrl).default('https://qstash.upstash.io'),
  QSTASH_TOKEN: secret,
  /** The backend endpoint QStash delivers accepted notifications to. */
  BACKEND_EVENTS_URL: httpUrl,
  EMP_API_PASSWORD: secret,
  /** The terminal's next password while a rotation is under way; both are accepted. */
  EMP_API_PASSWORD_NEXT: optional(secret),
  DEDUP_TTL_SECONDS: optional(positiveInt).default(86_400),
  MAX_NOTIFICATION_BYTES: optional(positiveInt).default(MAX_NOTIFICATION_BYTES),
  /** How often QStash retries a failed delivery to the backend (capped by the QStash plan). */
  QSTASH_RETRIES: optional(z.coerce.number({ error: 'must be a number' }).int().min(0).max(20)).default(3),
  /** Namespaces the edge's Redis keys, so several deployments (or test runs) can share a database. */
  REDIS_KEY_PREFIX: optional(z.string()).default('tether:edge:'),
  LOG_LEVEL: optional(z.enum(['debug', 'info', 'warn', 'error'], { error: 'must be debug, info, warn or error' })).default(
    'info',
  ),
});

export type EdgeEnv = z.input<typeof envSchema>;
export type LogLevel = z.output<typeof envSchema>['LOG_LEVEL'];

export interface EdgeConfig {
  redis: { url: string; token: string; keyPrefix: string };
  qstash: { url: string; token: string; retries: number };
  backendEventsUrl: string;
  /** Current password first; the next one during a rotation. */
  empApiPasswords: readonly string[];
  dedupTtlSeconds: number;
  maxNotificationBytes: number;
  logLevel: LogLevel;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** One line naming every offending variable, e.g. "QSTASH_TOKEN is required; DEDUP_TTL_SECONDS must be a number". */
function describeIssues(error: z.ZodError, env: Record<string, unknown>): string {
  return error.issues
    .map((issue) => {
      const variable = issue.path.join('.');
      const message = env[variable] === undefined ? 'is required' : issue.message;
      return `${variable} ${message}`;
    })
    .join('; ');
}

export function parseEdgeConfig(env: Record<string, unknown>): EdgeConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) throw new ConfigError(`edge configuration: ${describeIssues(parsed.error, env)}`);
  const vars = parsed.data;
  return {
    redis: { url: vars.UPSTASH_REDIS_REST_URL, token: vars.UPSTASH_REDIS_REST_TOKEN, keyPrefix: vars.REDIS_KEY_PREFIX },
    qstash: { url: vars.QSTASH_URL, token: vars.QSTASH_TOKEN, retries: vars.QSTASH_RETRIES },
    backendEventsUrl: vars.BACKEND_EVENTS_URL,
    empApiPasswords: vars.EMP_API_PASSWORD_NEXT ? [vars.EMP_API_PASSWORD, vars.EMP_API_PASSWORD_NEXT] : [vars.EMP_API_PASSWORD],
    dedupTtlSeconds: vars.DEDUP_TTL_SECONDS,
    maxNotificationBytes: vars.MAX_NOTIFICATION_BYTES,
    logLevel: vars.LOG_LEVEL,
  };
}
