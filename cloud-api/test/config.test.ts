import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PrincipalCache } from '../src/auth/principal-cache.js';
import { ConfigError, DEFAULT_ARGON2, loadConfig } from '../src/config.js';
import { Sealer } from '../src/lib/crypto.js';

const KEY = 'a'.repeat(64);

describe('configuration from the environment', () => {
  it('has the documented defaults', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-cfg-'));
    const c = loadConfig({ GATEHOUSE_DATA: dir });
    expect(c).toMatchObject({
      databaseUrl: null,
      dataDir: dir,
      port: 8080,
      host: '127.0.0.1',
      publicUrl: 'http://127.0.0.1:8080',
      oidc: null,
      mqttUrl: null,
      mqttShareGroup: 'ingest',
      mqttPort: 1883,
    });
    expect(c.argon2).toEqual(DEFAULT_ARGON2);
    expect(c.accessTokenTtlS).toBe(900);
    expect(c.refreshTokenTtlS).toBe(7 * 24 * 3600);
  });

  it('generates the master key into the data dir once (0600) and reuses it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-cfg-'));
    const a = loadConfig({ GATEHOUSE_DATA: dir });
    const b = loadConfig({ GATEHOUSE_DATA: dir });
    expect(a.masterKey.equals(b.masterKey)).toBe(true);
    const file = join(dir, 'master.key');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8').trim()).toBe(a.masterKey.toString('hex'));
  });

  it('refuses invalid values with a message naming the variable', () => {
    const bad: [Record<string, string>, RegExp][] = [
      [{ PORT: 'eighty' }, /PORT/],
      [{ PORT: '70000' }, /PORT/],
      [{ MQTT_PORT: '-1' }, /MQTT_PORT/],
      [{ DATABASE_URL: 'mysql://x/y' }, /DATABASE_URL/],
      [{ DATABASE_URL: 'not a url' }, /DATABASE_URL/],
      [{ PUBLIC_URL: 'ftp://x' }, /PUBLIC_URL/],
      [{ GATEHOUSE_MASTER_KEY: 'abcd' }, /GATEHOUSE_MASTER_KEY/],
      [{ OIDC_ISSUER: 'https://id.example/realms/x' }, /OIDC_AUDIENCE/],
      [{ OIDC_ISSUER: 'nope', OIDC_AUDIENCE: 'a' }, /OIDC_ISSUER/],
      [{ MQTT_URL: 'http://broker' }, /MQTT_URL/],
      [{ MQTT_SHARE_GROUP: 'a/b' }, /MQTT_SHARE_GROUP/],
      [{ MQTT_SHARE_GROUP: '+' }, /MQTT_SHARE_GROUP/],
      [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL/],
    ];
    for (const [env, message] of bad) {
      expect(() => loadConfig({ GATEHOUSE_MASTER_KEY: KEY, ...env }, { ephemeral: true }), JSON.stringify(env)).toThrow(ConfigError);
      expect(() => loadConfig({ GATEHOUSE_MASTER_KEY: KEY, ...env }, { ephemeral: true })).toThrow(message);
    }
  });

  it('outbound timeouts and breakers: defaults, values from the environment, refusals naming the variable', () => {
    const d = loadConfig(
      { GATEHOUSE_MASTER_KEY: KEY, OIDC_ISSUER: 'https://id.example/realms/x', OIDC_AUDIENCE: 'a' },
      { ephemeral: true },
    );
    expect(d.breakers).toEqual({ threshold: 5, cooldownMs: 10_000 });
    expect(d.notify.timeoutMs).toBe(10_000);
    expect(d.oidc?.timeoutMs).toBe(5_000);
    // pg-boss's pool gets the pool's DB_* timeouts.
    expect(d.jobs.dbTimeouts).toEqual(d.dbTimeouts);
    const c = loadConfig(
      {
        GATEHOUSE_MASTER_KEY: KEY,
        OIDC_ISSUER: 'https://id.example/realms/x',
        OIDC_AUDIENCE: 'a',
        OIDC_TIMEOUT_S: '2',
        NOTIFY_TIMEOUT_S: '3',
        BREAKER_THRESHOLD: '7',
        BREAKER_COOLDOWN_S: '30',
        DB_STATEMENT_TIMEOUT_MS: '4000',
      },
      { ephemeral: true },
    );
    expect(c.breakers).toEqual({ threshold: 7, cooldownMs: 30_000 });
    expect(c.notify.timeoutMs).toBe(3_000);
    expect(c.oidc?.timeoutMs).toBe(2_000);
    expect(c.jobs.dbTimeouts?.statementTimeoutMs).toBe(4_000);
    for (const name of ['NOTIFY_TIMEOUT_S', 'BREAKER_THRESHOLD', 'BREAKER_COOLDOWN_S', 'OIDC_TIMEOUT_S'])
      for (const v of ['0', 'soon', '-1'])
        expect(
          () =>
            loadConfig(
              { GATEHOUSE_MASTER_KEY: KEY, OIDC_ISSUER: 'https://id.example/x', OIDC_AUDIENCE: 'a', [name]: v },
              { ephemeral: true },
            ),
          `${name}=${v}`,
        ).toThrow(new RegExp(name));
  });

  it('never echoes a database password in its message', () => {
    expect(() => loadConfig({ DATABASE_URL: 'mysql://user:hunter2@db/x', GATEHOUSE_MASTER_KEY: KEY }, { ephemeral: true })).not.toThrow(
      /hunter2/,
    );
  });

  it('accepts a full production environment', () => {
    const c = loadConfig(
      {
        DATABASE_URL: 'postgres://gh@db:5432/gatehouse',
        PORT: '9000',
        HOST: '0.0.0.0',
        PUBLIC_URL: 'https://gate.example.com/',
        GATEHOUSE_MASTER_KEY: Buffer.alloc(32, 1).toString('base64'),
        OIDC_ISSUER: 'https://id.example.com/realms/acme',
        OIDC_AUDIENCE: 'gatehouse',
        MQTT_URL: 'mqtts://broker.example.com:8883',
      },
      { ephemeral: true },
    );
    expect(c).toMatchObject({
      port: 9000,
      host: '0.0.0.0',
      publicUrl: 'https://gate.example.com',
      oidc: { issuer: 'https://id.example.com/realms/acme', audience: 'gatehouse' },
    });
    expect(c.masterKey).toEqual(Buffer.alloc(32, 1));
  });
});

describe('sealing at rest', () => {
  const s = new Sealer(Buffer.alloc(32, 9));
  it('round-trips, is randomised, and is bound to its column', () => {
    const a = s.seal('4510 123456', 'visitors.document_number:1');
    expect(a).not.toContain('4510');
    expect(s.seal('4510 123456', 'visitors.document_number:1')).not.toBe(a);
    expect(s.open(a, 'visitors.document_number:1')).toBe('4510 123456');
    expect(() => s.open(a, 'visitors.phone:1')).toThrow();
    expect(() => new Sealer(Buffer.alloc(32, 8)).open(a, 'visitors.document_number:1')).toThrow();
    const [v, iv, tag, ct] = a.split('.');
    const flipped = `${v}.${iv}.${tag}.${Buffer.from(Buffer.from(ct!, 'base64url').map((b, i) => (i === 0 ? b ^ 1 : b))).toString('base64url')}`;
    expect(() => s.open(flipped, 'visitors.document_number:1')).toThrow();
  });
});

describe('principal cache', () => {
  const p = {
    userId: 'u',
    orgId: 'o',
    email: 'e',
    roles: [],
    permissions: new Set<never>(),
    via: 'password' as const,
    sessionId: 's',
    app: null,
  };
  it('serves a session for ttl, then forgets it; clear() drops everything', () => {
    const c = new PrincipalCache(5000);
    c.set('s', p, 1000);
    expect(c.get('s', 5999)).toBe(p);
    expect(c.get('s', 6000)).toBeNull();
    c.set('s', p, 1000);
    c.clear();
    expect(c.get('s', 1001)).toBeNull();
    const off = new PrincipalCache(0);
    off.set('s', p, 1000);
    expect(off.get('s', 1000)).toBeNull();
  });
});
