/**
 * The role check behind the session check: a route names the permission it needs
 * (shared/src/roles.ts) and an operator whose role lacks it gets 403, whatever the page showed.
 */
import type { MiddlewareHandler } from 'hono';
import { roleAllows, type Permission } from '@tether/shared/roles';

export function requirePermission(permission: Permission): MiddlewareHandler {
  return async (c, next) => {
    const operator = c.get('operator');
    if (!operator || !roleAllows(operator.role, permission)) {
      return c.json({ error: `your role (${operator?.role ?? 'none'}) may not do this: it needs the ${permission} permission` }, 403);
    }
    return next();
  };
}
