/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { FC } from 'hono/jsx';

/**
 * `share` from 0 to 1. The bar is an SVG rectangle whose width is an attribute, not a style: the
 * Content-Security-Policy allows no inline style (http/security-headers.ts).
 */
export const ProgressBar: FC<{ share: number; state?: 'done' | 'failed'; label: string }> = ({ share, state, label }) => {
  const percent = Math.round(Math.max(0, Math.min(1, share)) * 100);
  return (
    <div class={`progress ${state ?? ''}`} role="progressbar" aria-label={label} aria-valuemin="0" aria-valuemax="100" aria-valuenow={String(percent)}>
      <svg viewBox="0 0 100 1" preserveAspectRatio="none" aria-hidden="true">
        <rect width={String(percent)} height="1" />
      </svg>
    </div>
  );
};
