/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/**
 * /dashboard/operators (admins only, auth/route-permissions.ts): the operators, creating one with
 * a role and an initial password, disabling (their sessions end at once) or enabling one, and
 * changing a role (it applies from the operator's next request). Every change is audited by
 * auth/operators.ts; the last enabled admin can be neither disabled nor demoted.
 */
import { isRole, ROLES } from '@tether/shared/roles';
import { Hono, type Context } from 'hono';
import type { FC } from 'hono/jsx';
import { operatorActor } from '../../audit/actor';
import { CSRF_FIELD } from '../../auth/csrf';
import { changeRole, createOperator, disableOperator, enableOperator, listOperators, OperatorInputError, type OperatorRef } from '../../auth/operators';
import { MIN_PASSWORD_LENGTH } from '../../auth/passwords';
import { Badge } from '../components/badge';
import type { DashboardContext } from '../context';
import { formatTime } from '../format';
import { page } from '../render';

type Notice = { tone: 'ok' | 'bad'; text: string };
type OperatorRow = Awaited<ReturnType<typeof listOperators>>[number];

/** A small form posting one action on one operator (a plain form: the page is rendered again with the outcome). */
const Action: FC<{ path: string; csrfToken: string; label: string; tone?: string; children?: unknown }> = ({ path, csrfToken, label, tone, children }) => (
  <form class="inline" method="post" action={path}>
    <input type="hidden" name={CSRF_FIELD} value={csrfToken} />
    {children as never}
    <button type="submit" class={tone ?? 'secondary'}>
      {label}
    </button>
  </form>
);

const OperatorTable: FC<{ rows: OperatorRow[]; csrfToken: string; selfId: number }> = ({ rows, csrfToken, selfId }) => (
  <table id="operators">
    <tr>
      <th>operator</th>
      <th>role</th>
      <th>state</th>
      <th>created</th>
      <th>last log-in</th>
      <th></th>
    </tr>
    {rows.map((row) => (
      <tr data-operator={row.email}>
        <td>
          {row.email}
          {row.id === selfId ? <small> (you)</small> : null}
        </td>
        <td>
          <Action path={`/dashboard/operators/${row.id}/role`} csrfToken={csrfToken} label="Change role">
            <select name="role" aria-label={`Role of ${row.email}`}>
              {ROLES.map((role) => (
                <option value={role} selected={role === row.role}>
                  {role}
                </option>
              ))}
            </select>{' '}
          </Action>
        </td>
        <td>
          <Badge value={row.disabledAt ? 'disabled' : 'active'} />
        </td>
        <td>{formatTime(row.createdAt)}</td>
        <td>{formatTime(row.lastLoginAt)}</td>
        <td>
          {row.disabledAt ? (
            <Action path={`/dashboard/operators/${row.id}/enable`} csrfToken={csrfToken} label="Enable" />
          ) : (
            <Action path={`/dashboard/operators/${row.id}/disable`} csrfToken={csrfToken} label="Disable" tone="danger" />
          )}
        </td>
      </tr>
    ))}
  </table>
);

async function operatorsPage(c: Context, context: DashboardContext, notice?: Notice, status: 200 | 422 = 200) {
  const rows = await listOperators(context.db);
  const csrfToken = c.get('csrfToken');
  return page(
    c,
    'Operators',
    '/dashboard/operators',
    <>
      {notice ? (
        <p class={`notice ${notice.tone}`} role="status">
          {notice.text}
        </p>
      ) : null}
      <p>
        Viewers read; operators also upload, bill, replay and blacklist; admins also manage operators and lift compliance blacklist entries. Disabling
        an operator ends their sessions at once.
      </p>
      <div class="panel">
        <h2>Add an operator</h2>
        <form class="filters" method="post" action="/dashboard/operators">
          <input type="hidden" name={CSRF_FIELD} value={csrfToken} />
          <label>
            Email
            <input type="email" name="email" required autocomplete="off" />
          </label>
          <label>
            Role
            <select name="role">
              {ROLES.map((role) => (
                <option value={role} selected={role === 'operator'}>
                  {role}
                </option>
              ))}
            </select>
          </label>
          <label>
            Initial password
            <input type="password" name="password" required minlength={MIN_PASSWORD_LENGTH} autocomplete="new-password" />
          </label>
          <button type="submit">Add</button>
        </form>
      </div>
      <OperatorTable rows={rows} csrfToken={csrfToken} selfId={c.get('operator').id} />
    </>,
    status,
  );
}

const field = (form: Record<string, unknown>, name: string) => (typeof form[name] === 'string' ? (form[name] as string) : '');

/** Runs one management action; a refusal (OperatorInputError) is shown on the page with 422, changing nothing. */
async function manage(c: Context, context: DashboardContext, act: () => Promise<string>) {
  try {
    return operatorsPage(c, context, { tone: 'ok', text: await act() });
  } catch (error) {
    if (!(error instanceof OperatorInputError)) throw error;
    return operatorsPage(c, context, { tone: 'bad', text: error.message }, 422);
  }
}

function refOf(c: Context): OperatorRef {
  const id = Number(c.req.param('id'));
  if (!Number.isSafeInteger(id) || id <= 0) throw new OperatorInputError('no such operator');
  return { id };
}

export function operatorPages(context: DashboardContext) {
  const actor = (c: Context) => operatorActor(c.get('operator'));
  return new Hono()
    .get('/dashboard/operators', (c) => operatorsPage(c, context))
    .post('/dashboard/operators', async (c) => {
      const form = await c.req.parseBody();
      const role = field(form, 'role');
      return manage(c, context, async () => {
        if (!isRole(role)) throw new OperatorInputError(`choose a role: ${ROLES.join(', ')}`);
        const created = await createOperator(context.db, { email: field(form, 'email'), password: field(form, 'password'), role }, actor(c));
        return `${created.email} can log in now, as ${created.role}.`;
      });
    })
    .post('/dashboard/operators/:id/disable', (c) =>
      manage(c, context, async () => `${(await disableOperator(context.db, refOf(c), actor(c))).email} is disabled; their sessions have ended.`),
    )
    .post('/dashboard/operators/:id/enable', (c) => manage(c, context, async () => `${(await enableOperator(context.db, refOf(c), actor(c))).email} is enabled.`))
    .post('/dashboard/operators/:id/role', async (c) => {
      const role = field(await c.req.parseBody(), 'role');
      return manage(c, context, async () => {
        if (!isRole(role)) throw new OperatorInputError(`choose a role: ${ROLES.join(', ')}`);
        const changed = await changeRole(context.db, refOf(c), role, actor(c));
        return `${changed.email} is ${changed.role} now.`;
      });
    });
}
