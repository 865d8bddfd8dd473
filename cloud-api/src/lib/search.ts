import { and, eq, type SQL, sql } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import { appointments, appointmentVisitors, hosts, users, visitors, visitPasses } from '../db/schema.js';
import { emailHashes, nameSearchTokens, visitorLookupHashes } from '../modules/orgs/personal-data.js';
import type { Sealer } from './crypto.js';

/**
 * Server-side search (`q`) on lists of a large organisation (issue 17). Names, e-mails and phones
 * are sealed at rest, so nothing is searched by substring: `q` matches exactly
 * - an id (a UUID): the row itself, or the pass / visitor / gate it names;
 * - an e-mail (has "@"): the visitor whose e-mail it is, lower-cased, through its keyed hash;
 * - a phone or card number (digits, with spaces, dashes, brackets or a leading "+"): the visitor
 *   whose phone has those digits (keyed hash), and the pass whose card number it is;
 * - anything else, a name: the visitors whose name has every word of it as a whole word, any case,
 *   accents ignored ("petrov", "Ivan Petrov"; not "Petr"), through the keyed hashes of its words
 *   (name_tokens). A part of a word is not searchable: the name itself is only readable by opening the row.
 * Staff (users, hosts) are matched the same way, by their own hashes: the login e-mail's and the name's words.
 */
export type SearchTerm =
  | { kind: 'id'; id: string }
  | { kind: 'email'; hashes: string[]; userHashes: string[] }
  | { kind: 'number'; digits: string; phoneHashes: string[] }
  | { kind: 'name'; words: string[][]; userWords: string[][] }
  | { kind: 'none' };

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NUMBER = /^\+?[\d\s\-().]{3,}$/;

export function parseSearch(sealer: Sealer, q: string | undefined): SearchTerm | null {
  const text = q?.trim();
  if (!text) return null;
  if (UUID.test(text)) return { kind: 'id', id: text.toLowerCase() };
  if (text.includes('@'))
    return { kind: 'email', hashes: visitorLookupHashes(sealer, 'email', text), userHashes: emailHashes(sealer, text) };
  if (NUMBER.test(text)) {
    const digits = text.replace(/\D/g, '');
    if (digits) return { kind: 'number', digits, phoneHashes: visitorLookupHashes(sealer, 'phone', text) };
  }
  const words = nameSearchTokens(sealer, text);
  return words.length ? { kind: 'name', words, userWords: nameSearchTokens(sealer, text, 'users') } : { kind: 'none' };
}

const anyOf = (hashes: string[]) => sql`any(${sql.param(hashes)}::text[])`;
/** Every word, each in any of its hashes (a rotation's two keys): array overlap per word, on the GIN index. */
const allWords = (tokens: PgColumn, words: string[][]) =>
  sql.join(
    words.map((hashes) => sql`${tokens} && ${sql.param(hashes)}::text[]`),
    sql` and `,
  );

/** The condition on `users` a term sets: the user by id, by login e-mail (keyed hash), or by whole words of the name. */
export function userMatches(term: SearchTerm): SQL {
  if (term.kind === 'id') return sql`${users.id} = ${term.id}`;
  if (term.kind === 'email' && term.userHashes.length) return sql`${users.emailHash} = ${anyOf(term.userHashes)}`;
  if (term.kind === 'name') return allWords(users.nameTokens, term.userWords);
  return sql`false`;
}

/** The organisation's hosts a term names (the host by id, or its user as `userMatches` finds it), as a subquery. */
export function hostsMatching(orgId: string, term: SearchTerm): SQL {
  const byId = term.kind === 'id' ? sql`${hosts.id} = ${term.id} or ` : sql``;
  return sql`select ${hosts.id} from ${hosts} join ${users} on ${users.id} = ${hosts.userId}
    where ${hosts.orgId} = ${orgId} and ${users.orgId} = ${orgId} and (${byId}${userMatches(term)})`;
}

/** The organisation's visitors an e-mail or phone term names (a subquery on the hash indexes). */
export function visitorsMatching(orgId: string, term: SearchTerm): SQL | undefined {
  if (term.kind === 'email' && term.hashes.length)
    return sql`select ${visitors.id} from ${visitors} where ${visitors.orgId} = ${orgId} and ${visitors.emailHash} = ${anyOf(term.hashes)}`;
  if (term.kind === 'number' && term.phoneHashes.length)
    return sql`select ${visitors.id} from ${visitors} where ${visitors.orgId} = ${orgId} and ${visitors.phoneHash} = ${anyOf(term.phoneHashes)}`;
  if (term.kind === 'name')
    return sql`select ${visitors.id} from ${visitors} where ${visitors.orgId} = ${orgId} and ${allWords(visitors.nameTokens, term.words)}`;
  return undefined;
}

/**
 * The ids of the organisation's passes a term matches — the pass or its visitor by id, its visitor by
 * e-mail or phone, its card number — as a subquery: one arm per index, joined by UNION ALL. As one
 * condition OR-ing different columns, the planner chose to walk every pass newest first by id and test
 * each (`ORDER BY id LIMIT`): 3–5 s for a card number at a million passes (bench:large), against
 * milliseconds for the arms on their own.
 */
export function passIdsMatching(orgId: string, term: SearchTerm): SQL {
  const arm = (cond: SQL | undefined) => sql`select ${visitPasses.id} from ${visitPasses} where ${and(eq(visitPasses.orgId, orgId), cond)}`;
  const arms: SQL[] = [];
  if (term.kind === 'id') arms.push(arm(eq(visitPasses.id, term.id)), arm(eq(visitPasses.visitorId, term.id)));
  const who = visitorsMatching(orgId, term);
  if (who) arms.push(arm(sql`${visitPasses.visitorId} in (${who})`));
  if (term.kind === 'number') arms.push(arm(eq(visitPasses.cardNumber, term.digits)));
  return arms.length ? sql.join(arms, sql` union all `) : sql`select null::uuid where false`;
}

/** The condition on `visit_passes` a term sets (see passIdsMatching). */
export function passMatches(orgId: string, term: SearchTerm): SQL {
  return sql`${visitPasses.id} in (${passIdsMatching(orgId, term)})`;
}

/**
 * The condition on `appointments` a term sets: the appointment, its host or one of its visitors by id; a
 * visitor by e-mail, phone or name; the host by login e-mail or name. Arms of ids joined by UNION ALL, as
 * passIdsMatching does, so each arm runs on its own index.
 */
export function appointmentMatches(orgId: string, term: SearchTerm): SQL {
  const arm = (cond: SQL) => sql`select ${appointments.id} from ${appointments} where ${appointments.orgId} = ${orgId} and ${cond}`;
  const byVisitors = (who: SQL) =>
    sql`select ${appointmentVisitors.appointmentId} from ${appointmentVisitors}
      where ${appointmentVisitors.orgId} = ${orgId} and ${appointmentVisitors.visitorId} in (${who})`;
  const arms: SQL[] = [arm(sql`${appointments.hostId} in (${hostsMatching(orgId, term)})`)];
  if (term.kind === 'id') arms.push(arm(eq(appointments.id, term.id)), byVisitors(sql`${term.id}::uuid`));
  const who = visitorsMatching(orgId, term);
  if (who) arms.push(byVisitors(who));
  return sql`${appointments.id} in (${sql.join(arms, sql` union all `)})`;
}
