/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/**
 * Billing runs: start one (an upload's pending attempts, or the retries now due), watch its
 * progress, send rate and circuit breaker, pause, resume or cancel it. The runs themselves are
 * billing's (billing/runs.ts); these pages call it as its JSON API does.
 */
import { Hono, type Context } from 'hono';
import type { FC } from 'hono/jsx';
import { operatorActor } from '../../audit/actor';
import { operatorMay } from '../../auth/permissions';
import { BillingRunError, cancelRun, getRun, listRuns, pauseRun, resumeRun, runProgress, startRun, type BillingRun, type RunProgress } from '../../billing/runs';
import { Badge } from '../components/badge';
import { ProgressBar } from '../components/progress';
import type { DashboardContext } from '../context';
import { formatCount, formatTime } from '../format';
import { billableUploads, sendRate } from '../queries/runs';
import { isUuid } from '../parameters';
import { page } from '../render';

/** Statuses a run's attempt ends in: EMP answered, or it was never sent. */
const FINISHED = ['approved', 'declined', 'error', 'voided', 'refunded', 'chargebacked', 'chargeback_reversed', 'cancelled', 'submitted'];

const RunPanel: FC<{ run: BillingRun; progress: RunProgress; rate: number; mayOperate: boolean; notice?: string }> = ({ run, progress, rate, mayOperate, notice }) => {
  const live = run.status === 'running' || run.status === 'paused';
  const done = Object.entries(progress.byStatus).reduce((sum, [status, n]) => sum + (FINISHED.includes(status) ? n : 0), 0);
  return (
    <div id="run-panel" {...(live ? { 'hx-get': `/dashboard/runs/${run.id}/live`, 'hx-trigger': 'every 2s', 'hx-swap': 'outerHTML' } : {})}>
      {notice ? (
        <p class="notice bad" role="alert">
          {notice}
        </p>
      ) : null}
      <div class="panel grid">
        <div>
          <div class="stat-label">status</div>
          <Badge value={run.status} />
          {run.scheduledFor ? <div>scheduled for {formatTime(run.scheduledFor)}</div> : null}
          {run.pausedBy ? (
            <div>
              {/* An operator's pause names them in its reason ("paused by ops@…"); the others say what paused it. */}
              {run.pausedBy === 'operator' ? run.pauseReason : `paused by ${run.pausedBy.replace(/_/g, ' ')}: ${run.pauseReason ?? 'no reason given'}`}
            </div>
          ) : null}
        </div>
        <div>
          <div class="stat-label">EMP circuit breaker</div>
          <Badge value={run.breakerState} />
        </div>
        <div>
          <div class="stat-label">send rate, last minute</div>
          <span class="stat" data-rate>
            {rate.toFixed(1)}
          </span>{' '}
          /s
        </div>
        <div>
          <div class="stat-label">sent · answered</div>
          <span class="stat">{formatCount(progress.sent)}</span> · {formatCount(done)} of {formatCount(run.attemptCount)}
        </div>
      </div>
      <div class="panel">
        <ProgressBar share={run.attemptCount ? progress.sent / run.attemptCount : 0} state={run.status === 'completed' ? 'done' : undefined} label="Sent" />
        <p>
          {Object.entries(progress.byStatus)
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([status, n]) => (
              <span>
                <a href={`/dashboard/attempts?status=${status}`}>
                  <Badge value={status} />
                </a>{' '}
                {formatCount(n)}{' '}
              </span>
            ))}
        </p>
        <div class="inline" hidden={!mayOperate}>
          {run.status === 'running' ? (
            <button hx-post={`/dashboard/runs/${run.id}/pause`} hx-target="#run-panel" hx-swap="outerHTML">
              Pause
            </button>
          ) : null}
          {run.status === 'paused' ? (
            <button hx-post={`/dashboard/runs/${run.id}/resume`} hx-target="#run-panel" hx-swap="outerHTML">
              Resume
            </button>
          ) : null}
          {live ? (
            <button class="danger" hx-post={`/dashboard/runs/${run.id}/cancel`} hx-target="#run-panel" hx-swap="outerHTML" hx-confirm="Cancel this run? Attempts not yet sent stay pending.">
              Cancel
            </button>
          ) : null}
        </div>
      </div>
    </div>
  );
};

async function panel(c: Context, context: DashboardContext, run: BillingRun, notice?: string) {
  const [progress, rate] = await Promise.all([runProgress(context.db, run.id), sendRate(context.db, run.id)]);
  return c.html(<RunPanel run={run} progress={progress} rate={rate} mayOperate={operatorMay(c, 'operate')} notice={notice} />);
}

/** Pause, resume, cancel: billing refuses a move the run's status does not allow, and the panel says why. */
async function act(c: Context, context: DashboardContext, action: typeof pauseRun) {
  const id = c.req.param('id') ?? '';
  if (!isUuid(id)) return c.notFound();
  try {
    return await panel(c, context, await action(context.billing, id, operatorActor(c.get('operator'))));
  } catch (error) {
    if (!(error instanceof BillingRunError)) throw error;
    const run = await getRun(context.db, id);
    return run ? panel(c, context, run, error.message) : c.notFound();
  }
}

export function runPages(context: DashboardContext) {
  return new Hono()
    .get('/dashboard/runs', async (c) => {
      const [runs, billable] = await Promise.all([listRuns(context.db, 100), billableUploads(context.db)]);
      return page(
        c,
        'Billing runs',
        '/dashboard/runs',
        <>
          <div class="panel" hidden={!operatorMay(c, 'operate')}>
            <h2>Start a run</h2>
            <form class="filters" method="post" action="/dashboard/runs">
              <input type="hidden" name="_csrf" value={c.get('csrfToken')} />
              <label>
                What to bill
                <select name="selection" required>
                  {billable.map((upload) => (
                    <option value={upload.id}>
                      {upload.fileName} — {formatCount(upload.pending)} pending ({formatTime(upload.createdAt)})
                    </option>
                  ))}
                  <option value="due-retries">retries of soft declines now due</option>
                </select>
              </label>
              <button type="submit">Start billing</button>
            </form>
            {c.req.query('problem') ? <p class="notice bad">{c.req.query('problem')}</p> : null}
          </div>
          <table>
            <tr>
              <th>run</th>
              <th>status</th>
              <th>breaker</th>
              <th class="num">attempts</th>
              <th>by</th>
              <th>started</th>
              <th>ended</th>
            </tr>
            {runs.map((run) => (
              <tr>
                <td>
                  <a href={`/dashboard/runs/${run.id}`} class="mono">
                    {run.id.slice(0, 8)}
                  </a>
                </td>
                <td>
                  <Badge value={run.status} />
                  {run.status === 'scheduled' && run.scheduledFor ? <small> for {formatTime(run.scheduledFor)}</small> : null}
                </td>
                <td>
                  <Badge value={run.breakerState} />
                </td>
                <td class="num">{formatCount(run.attemptCount)}</td>
                <td>{run.createdBy ?? ''}</td>
                <td>{formatTime(run.createdAt)}</td>
                <td>{formatTime(run.completedAt ?? run.cancelledAt)}</td>
              </tr>
            ))}
          </table>
          {runs.length === 0 ? <p class="empty">No billing runs yet.</p> : null}
        </>,
      );
    })
    .post('/dashboard/runs', async (c) => {
      const selection = (await c.req.parseBody()).selection;
      const request = selection === 'due-retries' ? { dueRetries: true as const } : typeof selection === 'string' && isUuid(selection) ? { uploadId: selection } : undefined;
      if (!request) return c.redirect(`/dashboard/runs?problem=${encodeURIComponent('Choose what to bill.')}`, 303);
      try {
        const run = await startRun(context.billing, { selection: request, actor: operatorActor(c.get('operator')) });
        return c.redirect(`/dashboard/runs/${run.id}`, 303);
      } catch (error) {
        if (!(error instanceof BillingRunError)) throw error;
        return c.redirect(`/dashboard/runs?problem=${encodeURIComponent(error.message)}`, 303);
      }
    })
    .get('/dashboard/runs/:id', async (c) => {
      const id = c.req.param('id');
      const run = isUuid(id) ? await getRun(context.db, id) : undefined;
      if (!run) return page(c, 'Run not found', '/dashboard/runs', <p>No such billing run.</p>, 404);
      const [progress, rate] = await Promise.all([runProgress(context.db, run.id), sendRate(context.db, run.id)]);
      return page(
        c,
        `Billing run ${run.id.slice(0, 8)}`,
        '/dashboard/runs',
        <>
          <p class="stat-label">
            Started {formatTime(run.createdAt)} by {run.createdBy ?? 'unknown'} ·{' '}
            {run.uploadId ? <a href={`/dashboard/uploads/${run.uploadId}`}>upload</a> : 'due retries'}
          </p>
          <RunPanel run={run} progress={progress} rate={rate} mayOperate={operatorMay(c, 'operate')} />
        </>,
      );
    })
    .get('/dashboard/runs/:id/live', async (c) => {
      const id = c.req.param('id');
      const run = isUuid(id) ? await getRun(context.db, id) : undefined;
      return run ? panel(c, context, run) : c.notFound();
    })
    .post('/dashboard/runs/:id/pause', (c) => act(c, context, pauseRun))
    .post('/dashboard/runs/:id/resume', (c) => act(c, context, resumeRun))
    .post('/dashboard/runs/:id/cancel', (c) => act(c, context, cancelRun));
}
