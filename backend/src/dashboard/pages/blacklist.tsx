/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/**
 * /dashboard/blacklist: IBANs Tether must not collect from. Operators add one with a reason and
 * remove one with a reason; an entry only compliance may lift (deceased, regulatory) is lifted by
 * an admin, with a reason. Who did it and when stays on the entry, and in the audit log. IBANs are shown masked, and
 * looked for through a form post (/dashboard/blacklist/search), never in a URL.
 */
import { checkIban } from '@tether/shared/iban';
import { maskIban, maskIbansInText } from '@tether/shared/mask';
import { Hono, type Context } from 'hono';
import type { FC } from 'hono/jsx';
import { CSRF_FIELD } from '../../auth/csrf';
import { operatorActor } from '../../audit/actor';
import { operatorMay } from '../../auth/permissions';
import { blacklistByHand, BlacklistRemovalRefused, needsComplianceToLift, removeFromBlacklist, type BlacklistEntry } from '../../blacklist/blacklist';
import { Badge } from '../components/badge';
import { Pager } from '../components/pager';
import type { DashboardContext } from '../context';
import { formatTime } from '../format';
import { PAGE_SIZE } from '../queries/paging';
import { BLACKLIST_VIEWS, findBlacklistEntry, listBlacklist, type BlacklistView } from '../queries/blacklist';
import { ibanSearchTerm } from '../queries/iban-query';
import { page } from '../render';

const MAX_REASON = 500;
const SEARCH_PATH = '/dashboard/blacklist/search';

type Notice = { tone: 'ok' | 'bad'; text: string };

/** What the viewing operator may do here; the server refuses the rest whatever the page shows. */
interface Abilities {
  operate: boolean;
  administer: boolean;
}

const abilitiesOf = (c: Context): Abilities => ({ operate: operatorMay(c, 'operate'), administer: operatorMay(c, 'administer') });

/** Remove (an operator, ordinary entries) or lift (an admin, compliance entries), with a reason. */
const RemovalForm: FC<{ entry: BlacklistEntry; may: Abilities }> = ({ entry, may }) => {
  const compliance = needsComplianceToLift(entry);
  if (compliance ? !may.administer : !may.operate) return compliance ? <small>only an admin can lift it</small> : null;
  return (
    <form class="inline" hx-post={`/dashboard/blacklist/${entry.id}/${compliance ? 'lift' : 'remove'}`} hx-target="#blacklist-entries" hx-swap="outerHTML">
      <input name="reason" required maxlength={MAX_REASON} placeholder={compliance ? 'compliance decision' : 'why lift it'} aria-label="Reason for removal" />
      <button type="submit" class="secondary">
        {compliance ? 'Lift (compliance)' : 'Remove'}
      </button>
    </form>
  );
};

const Entries: FC<{ rows: BlacklistEntry[]; may: Abilities; notice?: Notice }> = ({ rows, may, notice }) => (
  <div id="blacklist-entries">
    {notice ? (
      <p class={`notice ${notice.tone}`} role="status">
        {notice.text}
      </p>
    ) : null}
    <table>
      <tr>
        <th>IBAN</th>
        <th>state</th>
        <th>reason</th>
        <th>added by</th>
        <th>removed</th>
        <th></th>
      </tr>
      {rows.map((entry) => (
        <tr data-entry={entry.id}>
          <td class="mono">{maskIban(entry.iban)}</td>
          <td>
            <Badge value={entry.removedAt ? 'removed' : 'active'} />
          </td>
          <td>
            {maskIbansInText(entry.reason)}
            {entry.reasonCode ? (
              <>
                {' '}
                <code>{entry.reasonCode}</code>
              </>
            ) : null}
          </td>
          <td>
            {entry.source === 'chargeback' ? 'chargeback (automatic)' : entry.source === 'emp_code' ? 'EMP decline code (automatic)' : (entry.createdBy ?? 'operator')}
            <br />
            <small>{formatTime(entry.createdAt)}</small>
          </td>
          <td>
            {entry.removedAt ? (
              <>
                {entry.removedBy}: {entry.removalReason}
                <br />
                <small>{formatTime(entry.removedAt)}</small>
              </>
            ) : null}
          </td>
          <td>{entry.removedAt ? null : <RemovalForm entry={entry} may={may} />}</td>
        </tr>
      ))}
    </table>
    {rows.length === 0 ? <p class="empty">No entries.</p> : null}
  </div>
);

function viewOf(value: string | undefined): BlacklistView {
  return (BLACKLIST_VIEWS as readonly string[]).includes(value ?? '') ? (value as BlacklistView) : 'active';
}

function reasonOf(value: unknown): string | undefined {
  const reason = typeof value === 'string' ? value.trim() : '';
  return reason.length >= 3 && reason.length <= MAX_REASON ? reason : undefined;
}

async function entriesAfter(c: Context, context: DashboardContext, notice: Notice, status: 200 | 422 = 200) {
  const rows = await listBlacklist(context.db, { view: 'active' });
  return c.html(<Entries rows={rows} may={abilitiesOf(c)} notice={notice} />, status);
}

/** The list, filtered by state and, when `q` is a whole IBAN, by that IBAN. */
async function blacklistList(c: Context, context: DashboardContext, filter: { view: BlacklistView; q: string; before: number | undefined }) {
  const { view, q, before } = filter;
  const rows = await listBlacklist(context.db, { view, iban: ibanSearchTerm(q), before });
  const csrfToken = c.get('csrfToken');
  const older = rows.length === PAGE_SIZE ? rows.at(-1)!.id : undefined;
  const may = abilitiesOf(c);
  return page(
    c,
    'Blacklist',
    '/dashboard/blacklist',
    <>
      <div class="panel" hidden={!may.operate}>
        <h2>Add an IBAN</h2>
        <form class="filters" hx-post="/dashboard/blacklist" hx-target="#blacklist-entries" hx-swap="outerHTML" data-reset-on-success>
          <label>
            IBAN
            <input name="iban" required size={34} autocomplete="off" />
          </label>
          <label>
            Reason
            <input name="reason" required minlength={3} maxlength={MAX_REASON} size={40} />
          </label>
          <button type="submit" class="danger">
            Blacklist
          </button>
        </form>
      </div>
      <form class="filters" method="post" action={SEARCH_PATH}>
        <input type="hidden" name={CSRF_FIELD} value={csrfToken} />
        <label>
          Show
          <select name="show">
            {BLACKLIST_VIEWS.map((option) => (
              <option value={option} selected={option === view}>
                {option}
              </option>
            ))}
          </select>
        </label>
        <label>
          Whole IBAN
          <input type="search" name="q" value={q} size={34} />
        </label>
        <button type="submit">Filter</button>
      </form>
      <Entries rows={rows} may={may} />
      {q ? (
        <Pager path={SEARCH_PATH} query={{ show: view, q }} before={older} post={{ csrfToken }} />
      ) : (
        <Pager path="/dashboard/blacklist" query={{ show: view }} before={older} />
      )}
    </>,
  );
}

export function blacklistPage(context: DashboardContext) {
  return new Hono()
    .get('/dashboard/blacklist', (c) => blacklistList(c, context, { view: viewOf(c.req.query('show')), q: '', before: Number(c.req.query('before')) || undefined }))
    // The filter is posted: its IBAN must not be in a URL (access logs, history, Referer).
    .post(SEARCH_PATH, async (c) => {
      const form = await c.req.parseBody();
      const q = typeof form.q === 'string' ? form.q : '';
      const show = typeof form.show === 'string' ? form.show : undefined;
      return blacklistList(c, context, { view: viewOf(show), q, before: Number(form.before) || undefined });
    })
    .post('/dashboard/blacklist', async (c) => {
      const form = await c.req.parseBody();
      const iban = checkIban(typeof form.iban === 'string' ? form.iban : '');
      const reason = reasonOf(form.reason);
      if (!iban.ok) return entriesAfter(c, context, { tone: 'bad', text: `Not blacklisted: ${iban.message}` }, 422);
      if (!reason) return entriesAfter(c, context, { tone: 'bad', text: `Not blacklisted: give a reason of 3 to ${MAX_REASON} characters` }, 422);
      const operator = c.get('operator');
      const { created } = await blacklistByHand(context.db, context.events.personalDataKey, { iban: iban.value, reason }, operatorActor(operator));
      context.log.info({ operatorId: operator.id, iban: iban.value, created }, 'IBAN blacklisted by an operator');
      const masked = maskIban(iban.value);
      return entriesAfter(c, context, created ? { tone: 'ok', text: `${masked} is blacklisted.` } : { tone: 'ok', text: `${masked} was blacklisted already.` });
    })
    .post('/dashboard/blacklist/:id/remove', (c) => removal(c, context, { byCompliance: false }))
    // Its own route, so that the route table (auth/route-permissions.ts) reserves it for admins.
    .post('/dashboard/blacklist/:id/lift', (c) => removal(c, context, { byCompliance: true }));
}

async function removal(c: Context, context: DashboardContext, options: { byCompliance: boolean }) {
  const entry = await findBlacklistEntry(context.db, Number(c.req.param('id')) || 0);
  const reason = reasonOf((await c.req.parseBody()).reason);
  if (!entry || entry.removedAt) return entriesAfter(c, context, { tone: 'bad', text: 'That entry is not active any more.' }, 422);
  if (!reason) return entriesAfter(c, context, { tone: 'bad', text: `Not removed: give a reason of 3 to ${MAX_REASON} characters` }, 422);
  const operator = c.get('operator');
  try {
    await removeFromBlacklist(context.db, context.events.personalDataKey, { iban: entry.iban, reason, byCompliance: options.byCompliance }, operatorActor(operator));
  } catch (error) {
    if (!(error instanceof BlacklistRemovalRefused)) throw error;
    return entriesAfter(c, context, { tone: 'bad', text: `Not removed: ${error.message}` }, 422);
  }
  context.log.info({ operatorId: operator.id, iban: entry.iban, byCompliance: options.byCompliance }, 'IBAN removed from the blacklist by an operator');
  return entriesAfter(c, context, { tone: 'ok', text: `${maskIban(entry.iban)} is no longer blacklisted.` });
}
