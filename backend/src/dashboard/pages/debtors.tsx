/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/** GET /dashboard/debtors?q=: debtors by name or whole IBAN, newest first; IBANs masked. */
import { maskIban } from '@tether/shared/mask';
import { Hono } from 'hono';
import { Pager } from '../components/pager';
import type { DashboardContext } from '../context';
import { formatTime } from '../format';
import { searchDebtors } from '../queries/debtors';
import { PAGE_SIZE } from '../queries/paging';
import { page } from '../render';

export function debtorsPage(context: DashboardContext) {
  return new Hono().get('/dashboard/debtors', async (c) => {
    const q = c.req.query('q') ?? '';
    const before = Number(c.req.query('before')) || undefined;
    const rows = await searchDebtors(context.db, q, before);
    return page(
      c,
      'Debtors',
      '/dashboard/debtors',
      <>
        <form class="filters" method="get">
          <label>
            Name or whole IBAN
            <input type="search" name="q" value={q} size={34} placeholder="Mustermann or DE89 3704 …" />
          </label>
          <button type="submit">Search</button>
        </form>
        <table>
          <tr>
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
        <Pager path="/dashboard/debtors" query={{ q }} before={rows.length === PAGE_SIZE ? rows.at(-1)!.id : undefined} />
      </>,
    );
  });
}
