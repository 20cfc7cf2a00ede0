/**
 * Who may do what (issue 17). Three roles, each including the one below it: a viewer reads, an
 * operator also changes collection state (uploads, billing runs, replays, blacklist entries,
 * refunds), an admin also manages operators, lifts compliance blacklist entries, erases debtors
 * and changes settings. Routes and CLI commands name the permission they need, never a role, so
 * the ladder is decided here once.
 */
export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = ['read', 'operate', 'administer'] as const;
export type Permission = (typeof PERMISSIONS)[number];

const LOWEST_ROLE_WITH: Record<Permission, Role> = { read: 'viewer', operate: 'operator', administer: 'admin' };

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

export function roleAllows(role: Role, permission: Permission): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(LOWEST_ROLE_WITH[permission]);
}
