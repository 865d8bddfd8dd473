// The role table is the server's own (one source of truth); it is a pure module, so the bundle can share it.
import { type Permission, permissionsOf, ROLES } from '@gatehouse/cloud-api/rbac';
import { getSession } from './session.ts';

export type { Permission };
export { ROLES };

export function can(p: Permission): boolean {
  const s = getSession();
  return !!s && permissionsOf(s.user.roles).has(p);
}
