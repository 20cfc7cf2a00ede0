/**
 * JSON logs. Every object logged passes through maskPersonalData, so an IBAN or a name can
 * reach a log line only masked, and secrets not at all.
 */
import { maskPersonalData } from '@tether/shared/mask';
import pino, { type Logger } from 'pino';

export type { Logger };

export function createLogger(options: { level: string; name?: string }): Logger {
  return pino({
    name: options.name ?? 'tether-backend',
    level: options.level,
    formatters: { log: (object) => maskPersonalData(object) as Record<string, unknown> },
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.token'], censor: '[redacted]' },
  });
}
