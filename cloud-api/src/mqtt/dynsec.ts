/**
 * The cloud as administrator of a Mosquitto running the dynamic-security
 * plugin: devices are created (bound to their own client id, with a role of
 * their own topics), disabled, enabled and deleted live by JSON commands on
 * `$CONTROL/dynamic-security/v1`. Mosquitto closes the session of a client
 * it disables or deletes at once and refuses its login from then on; no file
 * is rewritten and no signal sent. Answers come on `…/response`, shared by
 * every admin (every cloud instance), so each command carries a
 * `correlationData` of its own.
 */
import { uuidv7 } from '@gatehouse/protocol';
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { DYNSEC_CONTROL_TOPIC, deviceRoleName, dynsecDeviceAcls } from './acl.js';

export type DynsecCommand = { command: string } & Record<string, unknown>;
export interface DynsecResponse {
  command: string;
  error?: string;
  data?: unknown;
  correlationData?: string;
}

export interface DynsecAdminOptions {
  url: string;
  username: string;
  password: string;
  log: Logger;
  /** PEM of the CA the broker's TLS certificate is checked against (mqtts://); the system's CAs when absent. */
  ca?: Buffer | undefined;
  /** How long an answer may take. */
  timeoutMs?: number;
  /** Called after each (re)connection, e.g. to reconcile the broker's clients with the database. */
  onConnect?: () => void;
}

/** A device as the database sees it, for reconciliation. */
export interface WantedDevice {
  disabled: boolean;
}

export class DynsecError extends Error {}

export class DynsecAdmin {
  #client: MqttClient | null = null;
  #pending = new Map<string, { resolve: (r: DynsecResponse) => void; timer: NodeJS.Timeout }>();
  #n = 0;
  #waiters: Array<() => void> = [];
  readonly #prefix = uuidv7();
  readonly #o: DynsecAdminOptions & { timeoutMs: number };

  constructor(opts: DynsecAdminOptions) {
    this.#o = { timeoutMs: 5000, ...opts };
  }

  async start(): Promise<void> {
    const o = this.#o;
    const client = mqtt.connect(o.url, {
      clientId: `gatehouse-cloud-admin-${this.#prefix}`,
      username: o.username,
      password: o.password,
      ...(o.ca ? { ca: o.ca } : {}),
      reconnectPeriod: 1000,
      clean: true,
    });
    this.#client = client;
    client.on('message', (topic, payload) => {
      if (topic !== `${DYNSEC_CONTROL_TOPIC}/response`) return;
      let body: { responses?: DynsecResponse[] };
      try {
        body = JSON.parse(payload.toString('utf8')) as { responses?: DynsecResponse[] };
      } catch {
        return;
      }
      for (const r of body.responses ?? []) {
        const p = r.correlationData ? this.#pending.get(r.correlationData) : undefined;
        if (!p) continue;
        clearTimeout(p.timer);
        this.#pending.delete(r.correlationData as string);
        p.resolve(r);
      }
    });
    client.on('error', (err) => o.log.warn({ err: err.message }, 'dynsec: broker error'));
    // Never waits for the broker (issue 15: the cloud starts while it is down): each connection, the first
    // included, subscribes to the answers and reconciles; commands meanwhile fail fast (`run`) and are caught up then.
    client.on('connect', () => {
      client.subscribeAsync(`${DYNSEC_CONTROL_TOPIC}/response`, { qos: 1 }).then(
        () => {
          for (const w of this.#waiters.splice(0)) w();
          o.onConnect?.();
        },
        (err: unknown) => o.log.warn({ err }, 'dynsec: resubscribe failed'),
      );
    });
  }

  /** Resolves true once connected and listening for answers, false after `ms` without (it keeps trying). */
  whenReady(ms: number): Promise<boolean> {
    if (this.#client?.connected) return Promise.resolve(true);
    return new Promise((resolve) => {
      const on = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== on);
        resolve(false);
      }, ms);
      this.#waiters.push(on);
    });
  }

  async stop(): Promise<void> {
    const c = this.#client;
    this.#client = null;
    for (const [id, p] of this.#pending) {
      clearTimeout(p.timer);
      p.resolve({ command: id, error: 'stopped' });
    }
    this.#pending.clear();
    await c?.endAsync();
  }

  /** Sends the commands in one message and resolves to their answers, in order. */
  async run(commands: readonly DynsecCommand[]): Promise<DynsecResponse[]> {
    const c = this.#client;
    if (!c?.connected) throw new DynsecError('the broker is not reachable');
    const tagged = commands.map((cmd) => ({ ...cmd, correlationData: `${this.#prefix}-${++this.#n}` }));
    const answers = tagged.map(
      (cmd) =>
        new Promise<DynsecResponse>((resolve) => {
          const timer = setTimeout(() => {
            this.#pending.delete(cmd.correlationData);
            resolve({ command: cmd.command, error: 'no answer from the broker' });
          }, this.#o.timeoutMs);
          this.#pending.set(cmd.correlationData, { resolve, timer });
        }),
    );
    await c.publishAsync(DYNSEC_CONTROL_TOPIC, JSON.stringify({ commands: tagged }), { qos: 1 });
    return Promise.all(answers);
  }

  /** Runs the commands; an error other than the ones listed as harmless fails. */
  async #must(commands: readonly DynsecCommand[], harmless: RegExp = /^$/): Promise<DynsecResponse[]> {
    const out = await this.run(commands);
    const bad = out.find((r) => r.error && !harmless.test(r.error));
    if (bad) throw new DynsecError(`${bad.command}: ${bad.error}`);
    return out;
  }

  /** The broker accepts this device's login from now on, under its own client id only, on its own topics only. */
  async addDevice(deviceId: string, password: string): Promise<void> {
    const rolename = deviceRoleName(deviceId);
    const client = { username: deviceId, password, clientid: deviceId, textname: 'Gatehouse controller', roles: [{ rolename }] };
    const [, created] = await this.#must(
      [
        { command: 'createRole', rolename, acls: dynsecDeviceAcls(deviceId) },
        { command: 'createClient', ...client },
      ],
      /already exists/i,
    );
    // Left over from an attempt that did not commit: make it what it must be now.
    if (created?.error) {
      await this.#must([
        { command: 'modifyClient', ...client },
        { command: 'enableClient', username: deviceId },
      ]);
    }
  }

  /** Closes the device's session and forgets it: its password is refused from now on. */
  async deleteDevice(deviceId: string): Promise<void> {
    await this.#must(
      [
        { command: 'deleteClient', username: deviceId },
        { command: 'deleteRole', rolename: deviceRoleName(deviceId) },
      ],
      /not found/i,
    );
  }

  /** Closes the device's session and refuses its login until it is enabled. */
  async disableDevice(deviceId: string): Promise<void> {
    await this.#must([{ command: 'disableClient', username: deviceId }]);
  }

  async enableDevice(deviceId: string): Promise<void> {
    await this.#must([{ command: 'enableClient', username: deviceId }]);
  }

  /**
   * Makes the broker's devices (clients holding their own device role) agree
   * with `wanted`: the ones the database no longer knows are deleted, the
   * disabled ones disabled. A removal the broker missed (it was down when the
   * gate was deleted) is so caught up at the next connection. Clients that
   * are not Gatehouse devices are left alone. Devices it lacks cannot be
   * created here: their passwords exist only as hashes (re-run
   * `mosquitto-config`, or re-enroll).
   */
  async reconcile(wanted: ReadonlyMap<string, WantedDevice>): Promise<{ deleted: number; disabled: number; enabled: number }> {
    const [list] = await this.#must([{ command: 'listClients', verbose: true, count: -1, offset: 0 }]);
    const clients =
      (list?.data as { clients?: { username: string; disabled?: boolean; roles?: { rolename: string }[] }[] } | undefined)?.clients ?? [];
    const commands: DynsecCommand[] = [];
    const n = { deleted: 0, disabled: 0, enabled: 0 };
    for (const c of clients) {
      if (!c.roles?.some((r) => r.rolename === deviceRoleName(c.username))) continue;
      const w = wanted.get(c.username);
      if (!w) {
        commands.push({ command: 'deleteClient', username: c.username }, { command: 'deleteRole', rolename: deviceRoleName(c.username) });
        n.deleted++;
      } else if (w.disabled && !c.disabled) {
        commands.push({ command: 'disableClient', username: c.username });
        n.disabled++;
      } else if (!w.disabled && c.disabled) {
        commands.push({ command: 'enableClient', username: c.username });
        n.enabled++;
      }
    }
    if (commands.length > 0) await this.#must(commands, /not found/i);
    return n;
  }
}
