/**
 * The role check behind the session check: a route names the permission it needs
 * (shared/src/roles.ts) and an operator whose role lacks it gets 403, whatever the page showed.
 * Every route's permission is in route-permissions.ts, enforced in front of all of them;
 * requirePermission is the same check for a single router that wants it spelled out locally.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { roleAllows, type Permission } from '@tether/shared/roles';

/** Whether the request's operator may do what `permission` covers; for hiding what they may not (the server still refuses it). */
export function operatorMay(c: Context, permission: Permission): boolean {
  const operator = c.get('operator');
  return operator !== undefined && roleAllows(operator.role, permission);
}

export function refuseForRole(c: Context, permission: Permission) {
  return c.json({ error: `your role (${c.get('operator')?.role ?? 'none'}) may not do this: it needs the ${permission} permission` }, 403);
}

export function requirePermission(permission: Permission): MiddlewareHandler {
  return async (c, next) => (operatorMay(c, permission) ? next() : refuseForRole(c, permission));
}
