/**
 * `gatehouse-edge seed --file F`: loads a JSON snapshot into the store so a
 * standalone edge can be demoed and tested before the sync link exists.
 * {site, gates, zones, rules, passes, gateId, orgPublicKey?, orgPublicKeys?, seq?}
 * Every record is checked with the protocol's validators, as sync would.
 */
import { readFileSync } from 'node:fs';
import {
  type GateRecord,
  type PassRecord,
  type RuleRecord,
  type SiteRecord,
  type Validator,
  validators,
  type ZoneRecord,
} from '@gatehouse/protocol';
import type { EdgeStore } from './store/index.js';

export interface SeedData {
  gateId: string;
  site: SiteRecord;
  gates: GateRecord[];
  zones: ZoneRecord[];
  rules: RuleRecord[];
  passes: PassRecord[];
  orgPublicKeys: string[];
  seq: number;
}

export class SeedError extends Error {}

function list<T>(v: unknown, name: string, validator: Validator<T>): T[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new SeedError(`${name}: must be an array`);
  return v.map((x, i) => {
    const r = validator.validate(x);
    if (!r.ok) throw new SeedError(`${name}[${i}]: ${r.errors.join('; ')}`);
    return r.value;
  });
}

export function parseSeed(value: unknown): SeedData {
  if (!value || typeof value !== 'object') throw new SeedError('seed must be a JSON object');
  const o = value as Record<string, unknown>;
  if (typeof o.gateId !== 'string' || o.gateId.length === 0) throw new SeedError('gateId: string required');
  const site = validators.siteRecord.validate(o.site);
  if (!site.ok) throw new SeedError(`site: ${site.errors.join('; ')}`);
  const keys = [...(typeof o.orgPublicKey === 'string' ? [o.orgPublicKey] : []), ...((o.orgPublicKeys as string[] | undefined) ?? [])];
  for (const k of keys) {
    if (typeof k !== 'string' || Buffer.from(k, 'base64').length !== 32) throw new SeedError('orgPublicKey: base64 of 32 bytes');
  }
  const data: SeedData = {
    gateId: o.gateId,
    site: site.value,
    gates: list(o.gates, 'gates', validators.gateRecord),
    zones: list(o.zones, 'zones', validators.zoneRecord),
    rules: list(o.rules, 'rules', validators.ruleRecord),
    passes: list(o.passes, 'passes', validators.passRecord),
    orgPublicKeys: keys,
    seq: typeof o.seq === 'number' ? o.seq : 0,
  };
  if (!data.gates.some((g) => g.id === data.gateId)) throw new SeedError(`gateId: no gate ${JSON.stringify(data.gateId)} in gates`);
  return data;
}

export function applySeed(store: EdgeStore, seed: SeedData): void {
  store.applySnapshot(
    { site: seed.site, gates: seed.gates, zones: seed.zones, rules: seed.rules, passes: seed.passes },
    { replace: true, seq: seed.seq },
  );
  store.setSetting('gateId', seed.gateId);
  if (seed.orgPublicKeys.length > 0) store.setTrustedKeys(seed.orgPublicKeys);
}

export function loadSeedFile(file: string): SeedData {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new SeedError(`cannot read ${file}: ${(e as Error).message}`);
  }
  return parseSeed(value);
}
