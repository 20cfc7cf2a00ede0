/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/**
 * /dashboard/personal-data: the retention settings (personal-data/retention-settings.ts) and the
 * erasure of a debtor on request (personal-data/erasure.ts). Anyone may read the page; changing
 * the settings and erasing need the administer permission. Both are audited. The erasure form
 * takes the debtor's id (from the debtors page), never an IBAN, and is a POST.
 */
import { Hono, type Context } from 'hono';
import type { FC } from 'hono/jsx';
import { operatorActor } from '../../audit/actor';
import { requirePermission } from '../../auth/permissions';
import { eraseDebtor, ErasureRefused } from '../../personal-data/erasure';
import { readRetentionSettings, retentionSettingsSchema, saveRetentionSettings, type RetentionSettings } from '../../personal-data/retention-settings';
import type { DashboardContext } from '../context';
import { formatTime } from '../format';
import { page } from '../render';

const MAX_REASON = 500;

type Notice = { tone: 'ok' | 'bad'; text: string };

const NoticeLine: FC<{ notice?: Notice }> = ({ notice }) =>
  notice ? (
    <p class={`notice ${notice.tone}`} role="status">
      {notice.text}
    </p>
  ) : null;

const RetentionForm: FC<{ settings: RetentionSettings & { updatedBy: string | null; updatedAt: Date | null }; notice?: Notice }> = ({ settings, notice }) => (
  <form id="retention" class="panel" hx-post="/dashboard/personal-data/retention" hx-target="#retention" hx-swap="outerHTML">
    <h2>Retention</h2>
    <NoticeLine notice={notice} />
    <p>
      <small>
        The daily sweep (and <code>npm run tether -- retention:sweep</code>) applies these. Defaults and their reasons are in
        docs/personal-data.md. {settings.updatedBy ? `Last changed by ${settings.updatedBy}, ${formatTime(settings.updatedAt)}.` : 'The defaults apply.'}
      </small>
    </p>
    <div class="filters">
      <label>
        Raw EMP payloads reduced to their audit fields after (days)
        <input type="number" name="notificationPayloadDays" min={1} max={3650} required value={String(settings.notificationPayloadDays)} />
      </label>
      <label>
        Uploaded files and error reports deleted after (days)
        <input type="number" name="uploadFileDays" min={1} max={3650} required value={String(settings.uploadFileDays)} />
      </label>
      <label>
        Reason
        <input name="reason" maxlength={MAX_REASON} size={30} />
      </label>
      <button type="submit">Save</button>
    </div>
  </form>
);

const ErasureForm: FC<{ debtorId?: string; notice?: Notice }> = ({ debtorId, notice }) => (
  <form id="erasure" class="panel" hx-post="/dashboard/personal-data/erase" hx-target="#erasure" hx-swap="outerHTML">
    <h2>Erase a debtor (GDPR Art. 17)</h2>
    <NoticeLine notice={notice} />
    <p>
      <small>
        Replaces the name, IBAN, email and address of every debtor row with the same IBAN by a pseudonym, in the database and the
        stored files; cancels their attempts not yet sent; keeps amounts and statuses. A blacklisted IBAN stays blocked. This cannot be
        undone.
      </small>
    </p>
    <div class="filters">
      <label>
        Debtor id
        <input type="number" name="debtorId" min={1} required value={debtorId ?? ''} />
      </label>
      <label>
        Reason (the request)
        <input name="reason" required minlength={3} maxlength={MAX_REASON} size={30} />
      </label>
      <label>
        <input type="checkbox" name="confirm" value="yes" required /> I understand this cannot be undone
      </label>
      <button type="submit" class="danger">
        Erase
      </button>
    </div>
  </form>
);

async function retentionForm(c: Context, context: DashboardContext, notice?: Notice, status: 200 | 422 = 200) {
  return c.html(<RetentionForm settings={await readRetentionSettings(context.db)} notice={notice} />, status);
}

export function personalDataPage(context: DashboardContext) {
  return new Hono()
    .get('/dashboard/personal-data', requirePermission('read'), async (c) =>
      page(
        c,
        'Personal data',
        '/dashboard/personal-data',
        <>
          <RetentionForm settings={await readRetentionSettings(context.db)} />
          <ErasureForm debtorId={c.req.query('debtor')} />
        </>,
      ),
    )
    .post('/dashboard/personal-data/retention', requirePermission('administer'), async (c) => {
      const form = await c.req.parseBody();
      const parsed = retentionSettingsSchema.safeParse({ notificationPayloadDays: form.notificationPayloadDays, uploadFileDays: form.uploadFileDays });
      if (!parsed.success) {
        const problem = parsed.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`).join('; ');
        return retentionForm(c, context, { tone: 'bad', text: `Not saved: ${problem}` }, 422);
      }
      const reason = typeof form.reason === 'string' && form.reason.trim() ? form.reason.trim().slice(0, MAX_REASON) : undefined;
      const { changed } = await saveRetentionSettings(context.db, parsed.data, operatorActor(c.get('operator')), reason);
      return retentionForm(c, context, { tone: 'ok', text: changed ? 'Saved; the next sweep applies it.' : 'Nothing changed.' });
    })
    .post('/dashboard/personal-data/erase', requirePermission('administer'), async (c) => {
      const form = await c.req.parseBody();
      const debtorId = Number(form.debtorId);
      const reason = typeof form.reason === 'string' ? form.reason.trim() : '';
      const refuse = (text: string) => c.html(<ErasureForm debtorId={String(form.debtorId ?? '')} notice={{ tone: 'bad', text }} />, 422);
      if (!Number.isSafeInteger(debtorId) || debtorId <= 0) return refuse('Not erased: give the debtor id from the debtors page.');
      if (reason.length < 3 || reason.length > MAX_REASON) return refuse(`Not erased: give a reason of 3 to ${MAX_REASON} characters.`);
      if (form.confirm !== 'yes') return refuse('Not erased: confirm that it cannot be undone.');
      try {
        const result = await eraseDebtor(context.personalData, { debtorId, actor: operatorActor(c.get('operator')), reason });
        return c.html(
          <ErasureForm
            notice={{
              tone: 'ok',
              text: `Erased as ${result.pseudonym}: ${result.debtorIds.length} debtor rows, ${result.attemptsCancelled} unsent attempts cancelled, files of ${result.uploadIds.length} uploads deleted.`,
            }}
          />,
        );
      } catch (error) {
        if (!(error instanceof ErasureRefused)) throw error;
        return refuse(`Not erased: ${error.message}.`);
      }
    });
}
