/**
 * SSRF guard of webhook endpoints. The cloud POSTs to URLs its tenants give
 * it, from inside its own network: without a guard, an endpoint at
 * http://169.254.169.254/ or http://10.0.0.5:5432/ turns the delivery worker
 * into a probe of that network. So an endpoint URL must be https and every
 * address its host resolves to must be public unicast (ipaddr.js's `range()`
 * is 'unicast' — loopback, private, link-local, CGNAT, unique-local,
 * multicast, unspecified, reserved, documentation and IPv4-mapped forms of
 * those are all refused) — checked when the endpoint is saved AND at every
 * delivery after resolving the name again, and the delivery connects to the
 * very address that was checked (a name that resolves publicly at the check
 * and privately at the connection, DNS rebinding, gets nowhere). Redirects
 * are never followed. WEBHOOK_ALLOW_PRIVATE_URLS=1 lifts the rule (tests, a
 * closed network).
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import type { AppContext } from '../../context.js';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** A name to its addresses (all of them: any private one refuses the URL). */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: Resolver = async (hostname) =>
  (await lookup(hostname, { all: true, verbatim: true })).map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));

const resolvers = new WeakMap<AppContext, Resolver>();

/** Replaces the resolver deliveries and checks use (tests: a name that turns private after it was saved). */
export function useResolver(ctx: AppContext, resolver: Resolver): void {
  resolvers.set(ctx, resolver);
}

export const resolverOf = (ctx: AppContext): Resolver => resolvers.get(ctx) ?? systemResolver;

export class UrlRefused extends Error {
  override name = 'UrlRefused';
}

/** Public unicast only; an IPv4-mapped IPv6 address is judged as the IPv4 address it carries. */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  return parsed.range() === 'unicast';
}

/** The URL's form alone (no DNS): an absolute http(s) URL without credentials; https unless private URLs are allowed. */
export function checkUrlForm(raw: string, allowPrivate: boolean): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UrlRefused('url: not an absolute URL');
  }
  if (url.protocol !== 'https:' && !(allowPrivate && url.protocol === 'http:'))
    throw new UrlRefused(allowPrivate ? 'url: must be http or https' : 'url: must be https');
  if (url.username || url.password) throw new UrlRefused('url: must not carry credentials (the signature authenticates the sender)');
  if (url.hash) throw new UrlRefused('url: must not have a fragment');
  return url;
}

/** `[::1]` → `::1`: the host of a URL as an address or a name. */
const bareHost = (url: URL) => url.hostname.replace(/^\[(.*)\]$/, '$1');

/**
 * Resolves the URL's host and answers the address to connect to, or throws
 * `UrlRefused` naming the first non-public address (with private URLs allowed,
 * the first address whatever it is).
 */
export async function resolveChecked(url: URL, allowPrivate: boolean, resolve: Resolver): Promise<ResolvedAddress> {
  const host = bareHost(url);
  const family = isIP(host);
  let addresses: ResolvedAddress[];
  if (family !== 0) addresses = [{ address: host, family: family === 6 ? 6 : 4 }];
  else {
    try {
      addresses = await resolve(host);
    } catch (err) {
      throw new UrlRefused(`url: ${host} does not resolve (${(err as NodeJS.ErrnoException).code ?? 'lookup failed'})`);
    }
  }
  if (addresses.length === 0) throw new UrlRefused(`url: ${host} does not resolve`);
  if (!allowPrivate) {
    const bad = addresses.find((a) => !isPublicAddress(a.address));
    if (bad)
      throw new UrlRefused(
        `url: ${host === bad.address ? host : `${host} resolves to ${bad.address}, which`} is not a public address (loopback, private, link-local and the like are refused)`,
      );
  }
  return addresses[0]!;
}

/** Form and addresses, as an endpoint is saved: throws `UrlRefused`. */
export async function checkEndpointUrl(ctx: AppContext, raw: string): Promise<URL> {
  const allow = ctx.config.webhooks.allowPrivateUrls;
  const url = checkUrlForm(raw, allow);
  await resolveChecked(url, allow, resolverOf(ctx));
  return url;
}
