/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { FC } from 'hono/jsx';

/** `share` from 0 to 1. */
export const ProgressBar: FC<{ share: number; state?: 'done' | 'failed'; label: string }> = ({ share, state, label }) => {
  const percent = Math.round(Math.max(0, Math.min(1, share)) * 100);
  return (
    <div class={`progress ${state ?? ''}`} role="progressbar" aria-label={label} aria-valuemin="0" aria-valuemax="100" aria-valuenow={String(percent)}>
      <div style={`width: ${percent}%`}></div>
    </div>
  );
};
