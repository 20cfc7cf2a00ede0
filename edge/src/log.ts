/**
 * Structured JSON logs, one object per line. Every entry passes through maskPersonalData, so
 * an IBAN or a name reaches a log only masked, and secrets (signature, password, token) not at all.
 */
import { maskPersonalData } from '@tether/shared/mask';
import type { LogLevel } from './config';

export type { LogLevel };

const SEVERITY: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  log(level: LogLevel, message: string, fields?: Record<string, unknown>): void;
}

export function createLogger(options: { level: LogLevel; write?: (line: string) => void }): Logger {
  const threshold = SEVERITY[options.level];
  const write = options.write ?? ((line: string) => console.log(line));
  return {
    log(level, message, fields = {}) {
      if (SEVERITY[level] < threshold) return;
      const entry = { time: new Date().toISOString(), level, service: 'tether-edge', message, ...fields };
      write(JSON.stringify(maskPersonalData(entry)));
    },
  };
}

/** Error text for a log line; stacks stay out (they carry no operational meaning here). */
export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
