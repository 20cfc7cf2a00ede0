/**
 * JSON logs. Every object logged passes through maskPersonalData, so an IBAN or a name can
 * reach a log line only masked, and secrets not at all.
 */
import { maskPersonalData } from '@tether/shared/mask';
import pino, { type Logger } from 'pino';

export type { Logger };

/** `destination` defaults to stdout; the CLI logs to stderr, where its tables are not. */
export function createLogger(options: { level: string; name?: string; destination?: pino.DestinationStream }): Logger {
  return pino(
    {
      name: options.name ?? 'tether-backend',
      level: options.level,
      formatters: { log: (object) => maskPersonalData(object) as Record<string, unknown> },
      redact: { paths: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.token'], censor: '[redacted]' },
    },
    options.destination,
  );
}
