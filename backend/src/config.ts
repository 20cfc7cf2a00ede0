/**
 * Backend configuration: parsed once, with zod, at start-up. A missing or wrong variable stops
 * the process with one line naming it (see `describeConfigError`), never a stack trace.
 */
import { DEFAULT_BLACKLIST_CODES } from '@tether/shared/reason-codes';
import { z } from 'zod';
import type { ThrottlePolicy } from './auth/login-throttle';
import type { ObjectStorageConfig } from './storage/object-storage';
import { VOP_RESULTS, type VopResult } from './vop/result';

const url = (protocols: RegExp) => z.url({ protocol: protocols, error: 'must be a URL' });
const secret = z.string({ error: 'is required' }).min(1, 'is required');
const positiveInt = z.coerce.number({ error: 'must be a number' }).int('must be a whole number').positive('must be positive');
const flag = z
  .enum(['true', 'false', '1', '0'], { error: 'must be true or false' })
  .transform((value) => value === 'true' || value === '1');
const milliseconds = positiveInt;
const DAY_MS = 24 * 60 * 60 * 1000;
const vopResultList = z
  .string()
  .transform((value) => value.split(',').map((result) => result.trim().toLowerCase()).filter(Boolean))
  .pipe(z.array(z.enum(VOP_RESULTS, { error: `must list results among ${VOP_RESULTS.join(', ')}` })));
const codeList = z
  .string()
  .transform((value) => value.split(',').map((code) => code.trim().toUpperCase()).filter(Boolean));

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().default('0.0.0.0'),
  PORT: z.coerce.number({ error: 'must be a port number' }).int().min(0).max(65535).default(8080),
  /** How QStash and browsers reach this backend (through the load balancer in production). */
  PUBLIC_URL: url(/^https?$/).default('http://127.0.0.1:8080'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  DATABASE_URL: url(/^postgres(ql)?$/),
  DATABASE_POOL_SIZE: positiveInt.default(10),

  UPSTASH_REDIS_REST_URL: url(/^https?$/),
  UPSTASH_REDIS_REST_TOKEN: secret,
  /** Prefix of every key this deployment writes to Redis (rate limiters, VoP cache, locks). */
  REDIS_KEY_PREFIX: z.string().default('tether:'),

  QSTASH_URL: url(/^https?$/).default('https://qstash.upstash.io'),
  QSTASH_TOKEN: secret,
  QSTASH_CURRENT_SIGNING_KEY: secret,
  QSTASH_NEXT_SIGNING_KEY: secret,
  /** How often the cluster sends QStash a delivery probe (monitoring/delivery-probe.ts), in ms. */
  QSTASH_PROBE_INTERVAL: milliseconds.default(60_000),
  /** How long /metrics reuses what it read from the database, QStash and Redis, in ms. */
  METRICS_CACHE_TTL: milliseconds.default(5_000),

  S3_ENDPOINT: url(/^https?$/).optional(),
  S3_REGION: z.string().default('auto'),
  S3_BUCKET: secret,
  S3_ACCESS_KEY_ID: secret,
  S3_SECRET_ACCESS_KEY: secret,
  S3_FORCE_PATH_STYLE: flag.default(true),

  EMP_GATEWAY_URL: url(/^https?$/).default('https://staging.gate.emerchantpay.net'),
  /** The Web Payment Form host, for WPF reconcile; by default the gateway's with gate. → wpf. */
  EMP_WPF_URL: url(/^https?$/).optional(),
  EMP_TERMINAL_TOKEN: secret,
  EMP_API_LOGIN: secret,
  EMP_API_PASSWORD: secret,
  EMP_TIMEOUT: positiveInt.default(30_000),
  EMP_CONNECT_TIMEOUT: positiveInt.default(5_000),
  EMP_RATE_LIMIT: positiveInt.default(50),
  RECONCILIATION_RATE_LIMIT: positiveInt.default(20),
  /**
   * Share of every rate limit left unused: requests are spaced by the limiter, but reach EMP a
   * little jittered, and the limit holds for any one-second window.
   */
  RATE_LIMIT_HEADROOM: z.coerce.number({ error: 'must be a number' }).min(0).max(0.5).default(0.03),

  /** Billing runs (issue 6): attempts per QStash batch message, sales in flight per batch, batches in flight across all nodes. */
  BILLING_BATCH_SIZE: positiveInt.default(100),
  BILLING_CONCURRENCY: positiveInt.default(8),
  BILLING_PARALLEL_BATCHES: positiveInt.default(8),
  /** Circuit breaker around EMP: consecutive failures (timeouts, 5xx, network) that open it, and when it lets a probe through. */
  BREAKER_CONSECUTIVE_FAILURES: positiveInt.default(5),
  BREAKER_HALF_OPEN_AFTER: milliseconds.default(30_000),
  /** Soft declines (AM04, MS03: sepa-domain.md §5.3) are retried this often at most, this far apart. */
  RETRY_MAX: z.coerce.number({ error: 'must be a number' }).int().min(0).default(2),
  RETRY_SPACING: milliseconds.default(6 * DAY_MS),

  /** Verification of Payee before billing (sepa-domain.md §7); results in VOP_HOLD_RESULTS hold the attempt. */
  VOP_ENABLED: flag.default(false),
  VOP_HOLD_RESULTS: vopResultList.default(['no_match']),
  VOP_RATE_LIMIT: positiveInt.default(10),
  VOP_CACHE_TTL: positiveInt.default(30 * 24 * 60 * 60),

  /** QStash schedule of the reconciliation pass (UTC cron; the dev server also takes six fields). */
  RECONCILIATION_CRON: z.string().min(1).default('*/5 * * * *'),
  /** Create (or update) the reconciliation schedules in QStash when a node starts. */
  RECONCILIATION_SCHEDULE_ON_START: flag.default(true),
  /** The daily pass that also sweeps every transaction by date. */
  RECONCILIATION_SWEEP_CRON: z.string().min(1).default('30 3 * * *'),
  /** How long an attempt waits in a status before reconciliation asks EMP about it. */
  RECONCILE_UNKNOWN_AFTER: milliseconds.default(60_000),
  RECONCILE_SUBMITTED_AFTER: milliseconds.default(6 * 60 * 60 * 1000),
  /** A claim older than this belongs to a node that died; by default well past EMP_TIMEOUT. */
  RECONCILE_STALE_CLAIM_AFTER: milliseconds.optional(),
  /** Days back the by-date sweeps (transactions and chargebacks) look. */
  RECONCILE_SWEEP_DAYS: positiveInt.default(3),

  /** Daily QStash schedule of the personal-data retention sweep (docs/personal-data.md); the periods are dashboard settings. */
  RETENTION_SWEEP_CRON: z.string().min(1).default('15 2 * * *'),
  /**
   * Key of the keyed hash (HMAC-SHA-256) that keeps an erased debtor's blacklisted IBAN blocked
   * and derives erasure pseudonyms. Required in production, at least 32 characters; changing it
   * makes every erased IBAN's blacklist entry unmatchable, so it is kept like a database backup key.
   */
  PERSONAL_DATA_KEY: secret.optional(),

  /** Chargeback reason codes that blacklist the debtor's IBAN (../shared/sepa-domain.md §5.3). */
  CHARGEBACK_BLACKLIST_CODES: codeList.default([...DEFAULT_BLACKLIST_CODES]),

  /** Debtor files (sepa-domain.md §8). CSV streams at constant memory, so its cap only bounds the work. */
  UPLOAD_MAX_CSV_BYTES: positiveInt.default(512 * 1024 * 1024),
  /** XLSX keeps its shared strings in memory while the sheet streams: these caps bound that memory. */
  UPLOAD_MAX_XLSX_BYTES: positiveInt.default(64 * 1024 * 1024),
  UPLOAD_XLSX_MAX_UNCOMPRESSED_BYTES: positiveInt.default(1024 * 1024 * 1024),
  UPLOAD_XLSX_MAX_SHARED_STRINGS_BYTES: positiveInt.default(16 * 1024 * 1024),
  /** Rows committed per transaction; a crash repeats at most one batch. */
  UPLOAD_BATCH_SIZE: positiveInt.default(5_000),
  /**
   * Uploads processed at once, all nodes together (QStash flow control): the others wait in QStash,
   * holding no connection. Each takes one or two connections of its node's pool (docs/pgbouncer.md).
   */
  UPLOAD_PARALLELISM: positiveInt.default(2),
  /** A cap below the SEPA maximum of 999,999,999.99 EUR, as PSPs impose (§6.1). */
  UPLOAD_MAX_AMOUNT_CENTS: positiveInt.default(99_999_999_999),
  /** Lifetime of presigned upload and download URLs, seconds. */
  UPLOAD_URL_TTL: positiveInt.default(900),

  /** Operator sessions, seconds: unused for this long they end; used or not, they end after the maximum age. */
  SESSION_IDLE_TIMEOUT: positiveInt.default(2 * 60 * 60),
  SESSION_MAX_AGE: positiveInt.default(12 * 60 * 60),
  /** Failed log-ins in a row for one email from one address before that pair is locked, and for how many seconds (auth/login-throttle.ts). */
  LOGIN_MAX_FAILURES: positiveInt.default(5),
  LOGIN_LOCKOUT: positiveInt.default(15 * 60),
  /** Failed log-ins from one address, any emails, within LOGIN_LOCKOUT before that address is refused. */
  LOGIN_MAX_FAILURES_PER_ADDRESS: positiveInt.default(20),
  /** Failed log-ins within a minute, all emails and addresses together, before every log-in is refused for the rest of it. */
  LOGIN_MAX_FAILURES_PER_MINUTE: positiveInt.default(60),
  /** Proxies in front of the nodes that append to X-Forwarded-For (1 behind one load balancer); 0 = the socket's peer is the client. */
  TRUSTED_PROXIES: z.coerce.number({ error: 'must be a number' }).int().min(0).default(0),
  /**
   * The reports page warns when the trailing-30-day chargeback ratio (by count or by amount)
   * reaches this percentage. 0.5 %: card schemes' monitoring programmes start near 1 % and PSPs
   * underwriting SEPA Direct Debit ask merchants to stay well below it; half of that warns early
   * enough to act (reports/chargeback-ratio.ts).
   */
  CHARGEBACK_RATIO_WARNING_PERCENT: z.coerce.number({ error: 'must be a number' }).positive('must be positive').max(100).default(0.5),
});

/** What a node outside production keys its hashes with when PERSONAL_DATA_KEY is not set. */
const DEVELOPMENT_PERSONAL_DATA_KEY = 'dev-personal-data-key-never-in-production';
const MIN_PERSONAL_DATA_KEY_LENGTH = 32;

/**
 * Every secret value shipped in the repository for development: .env.example, .dev.vars.example,
 * dev/stack/defaults.ts (what `npm start` runs on) and docker-compose.yml. Anyone can read them,
 * so a production node refuses them in any secret variable (config.test.ts checks this list
 * against those files).
 */
const DEVELOPMENT_SECRET_VALUES = new Set([
  'dev-upstash-token',
  'dev-qstash-token',
  'sig_dev_current',
  'sig_dev_next',
  'S3RVER',
  'tether-secret',
  'dev-terminal',
  'dev-login',
  'dev-password',
  DEVELOPMENT_PERSONAL_DATA_KEY,
]);

export const SECRET_VARIABLES = [
  'UPSTASH_REDIS_REST_TOKEN',
  'QSTASH_TOKEN',
  'QSTASH_CURRENT_SIGNING_KEY',
  'QSTASH_NEXT_SIGNING_KEY',
  'S3_ACCESS_KEY_ID',
  'S3_SECRET_ACCESS_KEY',
  'EMP_TERMINAL_TOKEN',
  'EMP_API_LOGIN',
  'EMP_API_PASSWORD',
  'PERSONAL_DATA_KEY',
] as const;

/** Production only: no development secret, and an https PUBLIC_URL (session cookies are Secure only then). */
const productionEnvSchema = envSchema.superRefine((env, context) => {
  if (env.NODE_ENV !== 'production') return;
  if (!env.PUBLIC_URL.startsWith('https:')) {
    context.addIssue({ code: 'custom', path: ['PUBLIC_URL'], message: 'must be an https URL in production (session cookies are not Secure otherwise)' });
  }
  for (const variable of SECRET_VARIABLES) {
    const value = env[variable];
    if (value !== undefined && DEVELOPMENT_SECRET_VALUES.has(value)) {
      context.addIssue({ code: 'custom', path: [variable], message: 'is a development value from the repository: set the production secret' });
    }
  }
  if (env.PERSONAL_DATA_KEY === undefined) {
    context.addIssue({ code: 'custom', path: ['PERSONAL_DATA_KEY'], message: 'is required in production' });
  } else if (!DEVELOPMENT_SECRET_VALUES.has(env.PERSONAL_DATA_KEY) && env.PERSONAL_DATA_KEY.length < MIN_PERSONAL_DATA_KEY_LENGTH) {
    context.addIssue({ code: 'custom', path: ['PERSONAL_DATA_KEY'], message: `must have at least ${MIN_PERSONAL_DATA_KEY_LENGTH} characters` });
  }
});

export type Env = z.input<typeof envSchema>;

export interface Config {
  environment: 'development' | 'production' | 'test';
  http: { host: string; port: number; publicUrl: string };
  logLevel: string;
  database: { url: string; poolSize: number };
  redis: { url: string; token: string; keyPrefix: string };
  qstash: { url: string; token: string; currentSigningKey: string; nextSigningKey: string; probeIntervalMs: number };
  metrics: { cacheTtlMs: number };
  storage: ObjectStorageConfig;
  emp: {
    gatewayUrl: string;
    wpfUrl: string;
    terminalToken: string;
    login: string;
    password: string;
    timeoutMs: number;
    connectTimeoutMs: number;
    rateLimitPerSecond: number;
    reconciliationRateLimitPerSecond: number;
  };
  chargebackBlacklistCodes: readonly string[];
  personalData: PersonalDataSettings;
  uploads: UploadLimits;
  rateLimitHeadroom: number;
  billing: BillingSettings;
  vop: VopSettings;
  reconciliation: ReconciliationSettings;
  auth: AuthSettings;
  reports: { chargebackRatioWarning: number };
}

export interface AuthSettings {
  sessionIdleSeconds: number;
  sessionMaxAgeSeconds: number;
  loginThrottle: ThrottlePolicy;
  /** How many proxies' X-Forwarded-For entries to trust for the client's address. */
  trustedProxies: number;
  /** Cookies only over HTTPS: on when PUBLIC_URL is https. */
  secureCookies: boolean;
  /** The site's own origin: where the log-in may send an operator afterwards. */
  publicUrl: string;
}

export interface BillingSettings {
  batchSize: number;
  concurrency: number;
  parallelBatches: number;
  breaker: { consecutiveFailures: number; halfOpenAfterMs: number };
  retry: { max: number; spacingMs: number };
}

export interface VopSettings {
  enabled: boolean;
  holdResults: readonly VopResult[];
  rateLimitPerSecond: number;
  cacheTtlSeconds: number;
}

export interface ReconciliationSettings {
  scheduleOnStart: boolean;
  cron: string;
  sweepCron: string;
  unknownAfterMs: number;
  submittedAfterMs: number;
  staleClaimAfterMs: number;
  sweepDays: number;
}

export interface PersonalDataSettings {
  /** The keyed hash's key (PERSONAL_DATA_KEY). */
  key: string;
  retentionSweepCron: string;
}

export interface UploadLimits {
  maxCsvBytes: number;
  maxXlsxBytes: number;
  maxXlsxUncompressedBytes: number;
  maxXlsxSharedStringsBytes: number;
  batchSize: number;
  maxAmountCents: number;
  urlTtlSeconds: number;
  /** Uploads processed at once across all nodes. */
  parallelism: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** One line naming every offending variable, e.g. "DATABASE_URL is required; EMP_TIMEOUT must be a number". */
function describeIssues(error: z.ZodError, present: Record<string, unknown>): string {
  return error.issues
    .map((issue) => {
      const variable = issue.path.join('.');
      // A production rule may concern a variable left to its default (PUBLIC_URL): not "required".
      const message = variable in present || issue.code === 'custom' ? issue.message : 'is required';
      return `${variable} ${message}`;
    })
    .join('; ');
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // An empty variable means "not set", as in most .env tooling.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = productionEnvSchema.safeParse(present);
  if (!parsed.success) throw new ConfigError(`Invalid configuration: ${describeIssues(parsed.error, present)}`);
  const e = parsed.data;
  return {
    environment: e.NODE_ENV,
    http: { host: e.HOST, port: e.PORT, publicUrl: e.PUBLIC_URL.replace(/\/$/, '') },
    logLevel: e.LOG_LEVEL,
    database: { url: e.DATABASE_URL, poolSize: e.DATABASE_POOL_SIZE },
    redis: { url: e.UPSTASH_REDIS_REST_URL, token: e.UPSTASH_REDIS_REST_TOKEN, keyPrefix: e.REDIS_KEY_PREFIX },
    qstash: {
      url: e.QSTASH_URL,
      token: e.QSTASH_TOKEN,
      currentSigningKey: e.QSTASH_CURRENT_SIGNING_KEY,
      nextSigningKey: e.QSTASH_NEXT_SIGNING_KEY,
      probeIntervalMs: e.QSTASH_PROBE_INTERVAL,
    },
    metrics: { cacheTtlMs: e.METRICS_CACHE_TTL },
    storage: {
      endpoint: e.S3_ENDPOINT,
      region: e.S3_REGION,
      bucket: e.S3_BUCKET,
      accessKeyId: e.S3_ACCESS_KEY_ID,
      secretAccessKey: e.S3_SECRET_ACCESS_KEY,
      forcePathStyle: e.S3_FORCE_PATH_STYLE,
    },
    emp: {
      gatewayUrl: e.EMP_GATEWAY_URL.replace(/\/$/, ''),
      // emp-genesis.md §1: WPF lives on the same domain under wpf. instead of gate.
      wpfUrl: (e.EMP_WPF_URL ?? e.EMP_GATEWAY_URL.replace('://staging.gate.', '://staging.wpf.').replace('://gate.', '://wpf.')).replace(/\/$/, ''),
      terminalToken: e.EMP_TERMINAL_TOKEN,
      login: e.EMP_API_LOGIN,
      password: e.EMP_API_PASSWORD,
      timeoutMs: e.EMP_TIMEOUT,
      connectTimeoutMs: e.EMP_CONNECT_TIMEOUT,
      rateLimitPerSecond: e.EMP_RATE_LIMIT,
      reconciliationRateLimitPerSecond: e.RECONCILIATION_RATE_LIMIT,
    },
    chargebackBlacklistCodes: e.CHARGEBACK_BLACKLIST_CODES,
    personalData: { key: e.PERSONAL_DATA_KEY ?? DEVELOPMENT_PERSONAL_DATA_KEY, retentionSweepCron: e.RETENTION_SWEEP_CRON },
    uploads: {
      maxCsvBytes: e.UPLOAD_MAX_CSV_BYTES,
      maxXlsxBytes: e.UPLOAD_MAX_XLSX_BYTES,
      maxXlsxUncompressedBytes: e.UPLOAD_XLSX_MAX_UNCOMPRESSED_BYTES,
      maxXlsxSharedStringsBytes: e.UPLOAD_XLSX_MAX_SHARED_STRINGS_BYTES,
      batchSize: e.UPLOAD_BATCH_SIZE,
      maxAmountCents: e.UPLOAD_MAX_AMOUNT_CENTS,
      urlTtlSeconds: e.UPLOAD_URL_TTL,
      parallelism: e.UPLOAD_PARALLELISM,
    },
    rateLimitHeadroom: e.RATE_LIMIT_HEADROOM,
    auth: {
      sessionIdleSeconds: e.SESSION_IDLE_TIMEOUT,
      sessionMaxAgeSeconds: e.SESSION_MAX_AGE,
      loginThrottle: {
        maxFailures: e.LOGIN_MAX_FAILURES,
        lockoutSeconds: e.LOGIN_LOCKOUT,
        maxFailuresPerAddress: e.LOGIN_MAX_FAILURES_PER_ADDRESS,
        maxFailuresPerMinute: e.LOGIN_MAX_FAILURES_PER_MINUTE,
      },
      trustedProxies: e.TRUSTED_PROXIES,
      secureCookies: e.PUBLIC_URL.startsWith('https:'),
      publicUrl: e.PUBLIC_URL,
    },
    billing: {
      batchSize: e.BILLING_BATCH_SIZE,
      concurrency: e.BILLING_CONCURRENCY,
      parallelBatches: e.BILLING_PARALLEL_BATCHES,
      breaker: { consecutiveFailures: e.BREAKER_CONSECUTIVE_FAILURES, halfOpenAfterMs: e.BREAKER_HALF_OPEN_AFTER },
      retry: { max: e.RETRY_MAX, spacingMs: e.RETRY_SPACING },
    },
    vop: {
      enabled: e.VOP_ENABLED,
      holdResults: e.VOP_HOLD_RESULTS,
      rateLimitPerSecond: e.VOP_RATE_LIMIT,
      cacheTtlSeconds: e.VOP_CACHE_TTL,
    },
    reconciliation: {
      scheduleOnStart: e.RECONCILIATION_SCHEDULE_ON_START,
      cron: e.RECONCILIATION_CRON,
      sweepCron: e.RECONCILIATION_SWEEP_CRON,
      unknownAfterMs: e.RECONCILE_UNKNOWN_AFTER,
      submittedAfterMs: e.RECONCILE_SUBMITTED_AFTER,
      // Time to wait for a rate slot, then the whole EMP timeout, twice over, and a minute.
      staleClaimAfterMs: e.RECONCILE_STALE_CLAIM_AFTER ?? 2 * e.EMP_TIMEOUT + 60_000,
      sweepDays: e.RECONCILE_SWEEP_DAYS,
    },
    reports: { chargebackRatioWarning: e.CHARGEBACK_RATIO_WARNING_PERCENT / 100 },
  };
}

/** A URL safe to print: the password, if any, replaced. */
export function redactUrl(value: string): string {
  try {
    const parsed = new URL(value);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '[unparseable URL]';
  }
}
