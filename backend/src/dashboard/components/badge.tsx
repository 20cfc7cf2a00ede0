/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { FC } from 'hono/jsx';

const TONES: Record<string, 'ok' | 'warn' | 'bad'> = {
  ok: 'ok',
  completed: 'ok',
  approved: 'ok',
  applied: 'ok',
  active: 'bad',
  running: 'ok',
  closed: 'ok',
  processing: 'warn',
  queued: 'warn',
  uploaded: 'warn',
  pending: 'warn',
  pending_match: 'warn',
  submitted: 'warn',
  sending: 'warn',
  paused: 'warn',
  half_open: 'warn',
  stale: 'warn',
  failed: 'bad',
  declined: 'bad',
  error: 'bad',
  chargebacked: 'bad',
  illegal: 'bad',
  open: 'bad',
  down: 'bad',
  above_warning: 'bad',
  below_warning: 'ok',
};

/** A status as a coloured label; the word is always shown, the colour only helps. */
export const Badge: FC<{ value: string | null | undefined }> = ({ value }) =>
  value ? <span class={`badge ${TONES[value] ?? ''}`}>{value.replace(/_/g, ' ')}</span> : null;
