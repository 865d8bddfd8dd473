import i18n from '../i18n/index.ts';
import { ROLES } from './permissions.ts';

type Role = (typeof ROLES)[number];
const isRole = (r: string): r is Role => (ROLES as readonly string[]).includes(r);

/** A role as people call it ("Security officer" / «Офицер безопасности»); English keeps the role's own name, as the README does. */
export function roleName(role: string): string {
  return isRole(role) ? i18n.t(`role.${role}`) : role;
}
