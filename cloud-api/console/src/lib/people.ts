import type { Option } from '../components/form.tsx';
import { api, type Page } from './api.ts';
import { PATHS } from './query.ts';
import type { Host, User, Visitor } from './types.ts';

/**
 * The people a form picks (a pass's visitor, an appointment's host and visitors), asked of the server: a large
 * organisation's are more than the console loads, so a picker lists the newest and finds the rest by name, e-mail
 * or phone (the server's `q`).
 */
const FOUND = 50;

export const visitorOption = (v: Pick<Visitor, 'id' | 'fullName' | 'company'>): Option => ({
  value: v.id,
  label: v.company ? `${v.fullName} (${v.company})` : v.fullName,
});
export const hostOption = (h: Pick<Host, 'id' | 'fullName'>): Option => ({ value: h.id, label: h.fullName });

const query = (q: string) => ({ limit: FOUND, ...(q ? { q } : {}) });
export const findVisitors = async (q: string) => (await api.get<Page<Visitor>>(PATHS.visitors, query(q))).items.map(visitorOption);
export const findHosts = async (q: string) => (await api.get<Page<Host>>(PATHS.hosts, query(q))).items.map(hostOption);
/** A user by login e-mail (how the audit log names who acted). */
export const findUsers = async (q: string) =>
  (await api.get<Page<User>>(PATHS.users, query(q))).items.map((u) => ({ value: u.id, label: u.email }));
