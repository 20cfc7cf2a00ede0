/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/**
 * /dashboard/debtors: the newest debtors (GET), or those matching a name or whole IBAN (POST
 * /dashboard/debtors/search: a form post, so that no IBAN is ever in a URL, where access logs,
 * browser history and Referer headers would keep it). IBANs are shown masked.
 */
import { maskIban } from '@tether/shared/mask';
import { Hono, type Context } from 'hono';
import { CSRF_FIELD } from '../../auth/csrf';
import { Pager } from '../components/pager';
import type { DashboardContext } from '../context';
import { formatTime } from '../format';
import { searchDebtors } from '../queries/debtors';
import { PAGE_SIZE } from '../queries/paging';
import { page } from '../render';

const SEARCH_PATH = '/dashboard/debtors/search';

async function debtorsList(c: Context, context: DashboardContext, q: string, before: number | undefined) {
  const rows = await searchDebtors(context.db, q, before);
  const csrfToken = c.get('csrfToken');
  const older = rows.length === PAGE_SIZE ? rows.at(-1)!.id : undefined;
  return page(
    c,
    'Debtors',
    '/dashboard/debtors',
    <>
      <form class="filters" method="post" action={SEARCH_PATH}>
        <input type="hidden" name={CSRF_FIELD} value={csrfToken} />
        <label>
          Name or whole IBAN
          <input type="search" name="q" value={q} size={34} placeholder="Mustermann or DE89 3704 …" />
        </label>
        <button type="submit">Search</button>
      </form>
      <table>
        <tr>
          <th>id</th>
          <th>name</th>
          <th>IBAN</th>
          <th>BIC</th>
          <th>mandate</th>
          <th>reference</th>
          <th class="num">attempts</th>
          <th>created</th>
        </tr>
        {rows.map((debtor) => (
          <tr>
            <td>{debtor.id}</td>
            <td>{debtor.name}</td>
            <td class="mono">{maskIban(debtor.iban)}</td>
            <td class="mono">{debtor.bic ?? ''}</td>
            <td>{debtor.mandateReference ?? ''}</td>
            <td>{debtor.externalReference ?? ''}</td>
            <td class="num">{debtor.attempts > 0 ? <a href={`/dashboard/attempts?debtor=${debtor.id}`}>{debtor.attempts}</a> : '0'}</td>
            <td>{formatTime(debtor.createdAt)}</td>
          </tr>
        ))}
      </table>
      {rows.length === 0 ? <p class="empty">No debtors{q ? ` match “${q}”` : ' yet'}.</p> : null}
      {q ? (
        <Pager path={SEARCH_PATH} query={{ q }} before={older} post={{ csrfToken }} />
      ) : (
        <Pager path="/dashboard/debtors" query={{}} before={older} />
      )}
    </>,
  );
}

export function debtorsPage(context: DashboardContext) {
  return new Hono()
    .get('/dashboard/debtors', (c) => debtorsList(c, context, '', Number(c.req.query('before')) || undefined))
    .post(SEARCH_PATH, async (c) => {
      const form = await c.req.parseBody();
      const q = typeof form.q === 'string' ? form.q : '';
      return debtorsList(c, context, q, Number(form.before) || undefined);
    });
}
