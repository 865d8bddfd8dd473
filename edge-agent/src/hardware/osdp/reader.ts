/**
 * An OSDP reader (a PD on an RS-485 bus) as a gate `Reader`; this controller is the CP. Hand-written: no Node
 * OSDP implementation exists (libosdp, goToMain/libosdp src/osdp_cp.c, was the reference for the flow).
 *
 * Connection: ID → CAP → (Secure Channel: CHLNG → CCRYPT checked → SCRYPT → RMAC_I checked) → LSTAT, then POLL
 * each turn. Replies to POLL carry card reads (RAW → `W26:`/`W34:` bits for 26/34-bit reads, otherwise
 * `CARD:<decimal>`; FMT → `CARD:<digits>`), keypad entries and tamper/power reports (LSTATR).
 *
 * Secure Channel keys: the key stored by install mode or a rotation (keys.ts) comes first, then the config's
 * `scbk`. SCBK-D, the published default key, is used only with `"secureChannel": {"install": true}` and no key
 * stored yet: connect with it, KEYSET a fresh random key at once, store it, reconnect with it. A PD whose
 * cryptogram does not verify (or that NAKs the challenge) is refused and reported ("secure channel key
 * rejected"), retried at a slow back-off, and never talked to in plain text or with SCBK-D instead.
 *
 * Keypad: a PIN alone must not open anything, so keypad entries are never handed to the gate as a credential.
 * They are counted (`status().keypadEntries`) and otherwise dropped, and never logged: the digits are a secret.
 * (A card+PIN rule would pair them with the next card read; the decision engine has no such rule yet.)
 */
import { type Direction, osdpKeyId } from '@gatehouse/protocol';
import type { OsdpReaderConfig } from '../../config.js';
import type { HardwareHealth, Reader, ReaderCondition, ReaderFeedback, ReaderInput } from '../types.js';
import type { BusDevice, BusIo, OsdpBus } from './bus.js';
import { encodeFrame, SCS } from './frame.js';
import type { OsdpKeyStore } from './keys.js';
import {
  CAP,
  CMD,
  COLOR,
  encodeBuz,
  encodeKeyset,
  encodeLed,
  encodeText,
  type LocalStatus,
  NAK,
  nakText,
  type PdCapability,
  type PdId,
  parseCcrypt,
  parseFmt,
  parseKeypad,
  parseLstatr,
  parsePdCap,
  parsePdId,
  parseRaw,
  REPLY,
} from './messages.js';
import {
  clientCryptogram,
  deriveSessionKeys,
  equal16,
  initialRmac,
  randomChallenge,
  randomScbk,
  SCBK_D,
  SecureSession,
  serverCryptogram,
} from './secure-channel.js';

export const KEY_REJECTED = 'secure channel key rejected';
const BUSY_RETRIES = 10;
const BUSY_WAIT_MS = 20;

export interface OsdpReaderOptions {
  bus: OsdpBus;
  /** Where install mode and setKey() keep keys; without one, install mode is refused. */
  keys?: OsdpKeyStore | null;
  /** Resends of one packet after a reply timeout before it counts as missed. */
  retries?: number;
  /** Missed exchanges in a row after which the PD is offline. */
  offlineAfter?: number;
  /** Reconnect back-off while the PD does not answer. */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** The slower back-off after a rejected key: retrying fast would only hammer the PD. */
  keyRejectedMinMs?: number;
  keyRejectedMaxMs?: number;
  log?: { info(o: object, m: string): void; warn(o: object, m: string): void };
  /** start() waits this long at most for the first connection attempt. */
  startWaitMs?: number;
}

type ScState = 'off' | 'connecting' | 'established' | 'rejected';
type KeySource = 'pending' | 'stored' | 'config' | 'default';

interface Queued {
  code: number;
  data: Buffer;
  what: string;
  done?: (reply: { code: number; data: Buffer } | null) => void;
}

export interface OsdpStatus {
  address: number;
  online: boolean;
  secureChannel: ScState;
  keySource: KeySource | null;
  pd: PdId | null;
  capabilities: PdCapability[];
  tamper: boolean;
  power: boolean;
  detail: string;
  keypadEntries: number;
  cards: number;
}

export class OsdpReader implements Reader, BusDevice {
  readonly type = 'osdp';
  readonly name: string;
  readonly direction: Direction;
  readonly address: number;
  readonly #cfg: OsdpReaderConfig & { name: string };
  readonly #bus: OsdpBus;
  readonly #keys: OsdpKeyStore | null;
  readonly #listeners: ((i: ReaderInput) => void)[] = [];
  readonly #conditionListeners: ((c: ReaderCondition) => void)[] = [];
  readonly #queue: Queued[] = [];
  readonly #retries: number;
  readonly #offlineAfter: number;
  readonly #reconnect: { min: number; max: number };
  readonly #slow: { min: number; max: number };
  #started = false;
  #online = false;
  #sqn = 0;
  #session: SecureSession | null = null;
  #sc: ScState;
  #keySource: KeySource | null = null;
  #missed = 0;
  #nextAttemptAt = 0;
  #backoffMs: number;
  #slowBackoffMs: number;
  /** Which key candidate the next handshake tries (advances after a rejection). */
  #candidate = 0;
  #offlineRaised = false;
  #status: LocalStatus = { tamper: false, power: false };
  #pd: PdId | null = null;
  #caps: PdCapability[] = [];
  #detail = 'not started';
  #rekey: { key: Buffer; resolve: () => void; reject: (e: Error) => void } | null = null;
  /** The last setKey() that failed (CMD-5: reported in health until a later one succeeds). */
  #keyFailed: { keyId: string; detail: string } | null = null;
  #keypadEntries = 0;
  #cards = 0;
  /** The base key of the current session. */
  #sessionKey: Buffer | null = null;
  readonly #log: OsdpReaderOptions['log'];
  readonly #startWaitMs: number;
  #firstAttempt: (() => void) | null = null;
  #onlineSince = Number.NEGATIVE_INFINITY;
  #lastLostAt = Number.NEGATIVE_INFINITY;

  constructor(cfg: OsdpReaderConfig & { name: string }, opts: OsdpReaderOptions) {
    this.#cfg = cfg;
    this.name = cfg.name;
    this.direction = cfg.direction;
    this.address = cfg.address;
    this.#bus = opts.bus;
    this.#keys = opts.keys ?? null;
    this.#log = opts.log;
    this.#startWaitMs = opts.startWaitMs ?? 2000;
    this.#retries = opts.retries ?? 1;
    this.#offlineAfter = opts.offlineAfter ?? 3;
    this.#reconnect = { min: opts.reconnectMinMs ?? 250, max: opts.reconnectMaxMs ?? 5000 };
    this.#slow = { min: opts.keyRejectedMinMs ?? 5000, max: opts.keyRejectedMaxMs ?? 60_000 };
    this.#backoffMs = this.#reconnect.min;
    this.#slowBackoffMs = this.#slow.min;
    this.#sc = cfg.secureChannel === false ? 'off' : 'connecting';
    if (cfg.secureChannel !== false && 'install' in cfg.secureChannel && !this.#keys) {
      throw new Error('osdp install mode needs a data directory to keep the new key in');
    }
  }

  // ---------- Reader ----------

  onInput(cb: (input: ReaderInput) => void): void {
    this.#listeners.push(cb);
  }

  onCondition(cb: (c: ReaderCondition) => void): void {
    this.#conditionListeners.push(cb);
  }

  /** Resolves after the first connection attempt (online, or refused/unanswered and reported), at most `startWaitMs`. */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    this.#detail = 'connecting';
    const first = new Promise<void>((resolve) => {
      this.#firstAttempt = resolve;
      setTimeout(resolve, this.#startWaitMs).unref?.();
    });
    this.#bus.attach(this);
    await this.#bus.acquire();
    if (!this.#bus.isOpen) {
      this.#detail = this.#bus.detail;
      this.#raiseOffline(this.#bus.detail);
      this.#firstAttempt?.();
    }
    await first;
    this.#firstAttempt = null;
  }

  async stop(): Promise<void> {
    if (!this.#started) return;
    this.#started = false;
    this.#online = false;
    this.#session = null;
    this.#detail = 'stopped';
    for (const q of this.#queue.splice(0)) q.done?.(null);
    this.#rekey?.reject(new Error('reader stopped'));
    this.#rekey = null;
    this.#bus.detach(this);
    await this.#bus.release();
  }

  health(): HardwareHealth {
    return {
      name: this.name,
      type: this.type,
      healthy: this.#started && this.#online,
      detail: this.#healthDetail(),
      // CMD-5: the cloud learns which key is in use by its id alone.
      ...(this.#sc === 'established' && this.#online && this.#sessionKey ? { keyId: osdpKeyId(this.#sessionKey) } : {}),
      ...(this.#keyFailed ? { keyFailed: this.#keyFailed } : {}),
    };
  }

  #healthDetail(): string {
    const parts = [`${this.#online ? 'online' : 'offline'} at ${this.#cfg.path}#${this.address}`];
    if (!this.#online) parts.push(this.#started && !this.#bus.isOpen ? this.#bus.detail : this.#detail);
    parts.push(`secure channel ${this.#sc}${this.#keySource && this.#sc === 'established' ? ` (${this.#keySource} key)` : ''}`);
    if (this.#pd) parts.push(`PD ${this.#pd.vendor} model ${this.#pd.model} serial ${this.#pd.serial} firmware ${this.#pd.firmware}`);
    if (this.#status.tamper) parts.push('TAMPER');
    if (this.#status.power) parts.push('POWER FAILURE');
    return parts.join('; ').slice(0, 500);
  }

  status(): OsdpStatus {
    return {
      address: this.address,
      online: this.#online,
      secureChannel: this.#sc,
      keySource: this.#keySource,
      pd: this.#pd,
      capabilities: this.#caps,
      tamper: this.#status.tamper,
      power: this.#status.power,
      detail: this.#detail,
      keypadEntries: this.#keypadEntries,
      cards: this.#cards,
    };
  }

  /**
   * Shows a decision on the PD: LED green and one short beep on allow, red and two beeps on deny, and the reason
   * as text when the PD has a display (its CAP says so). Queued behind nothing: the loop is woken at once.
   * Dropped while the PD is offline, since a late green light would be a lie.
   */
  feedback(outcome: ReaderFeedback): void {
    if (!this.#online || this.#queue.length > 16) return;
    const color = outcome.allow ? COLOR.green : COLOR.red;
    // What the PD's CAP says it has; a PD that sent no capabilities gets LED and buzzer, which nearly all have.
    const has = (code: number) => this.#caps.length === 0 || this.#caps.some((c) => c.code === code && c.compliance > 0);
    if (has(CAP.LED)) {
      this.#enqueue({
        code: CMD.LED,
        data: encodeLed({ reader: 0, led: 0, temporary: { onColor: color, offColor: color, onTime: 15, offTime: 0, ms: 1500 } }),
        what: 'led',
      });
    }
    if (has(CAP.AUDIBLE)) {
      this.#enqueue({
        code: CMD.BUZ,
        data: encodeBuz({ reader: 0, onTime: outcome.allow ? 1 : 2, offTime: outcome.allow ? 0 : 1, count: outcome.allow ? 1 : 2 }),
        what: 'buz',
      });
    }
    if (this.#caps.some((c) => c.code === CAP.TEXT && c.compliance > 0 && c.count > 0)) {
      const text = outcome.allow ? 'WELCOME' : `DENIED ${outcome.reason.toUpperCase().replaceAll('_', ' ')}`;
      this.#enqueue({ code: CMD.TEXT, data: encodeText({ reader: 0, seconds: 3, row: 1, col: 1, text: text.slice(0, 16) }), what: 'text' });
    }
  }

  /**
   * Sends a new base key with KEYSET over the current secure session, stores it (pending first, then committed on
   * the PD's ACK) and reconnects with it. Resolves once a session under the new key is up.
   * The cloud's `osdp_keyset` command (CMD-5) calls this with the key the link unsealed; a failure stays in
   * health() as `keyFailed` until a later key is set.
   */
  setKey(newScbk: Buffer, opts: { timeoutMs?: number } = {}): Promise<void> {
    // A new attempt makes the last failure moot: the status must not report it against the key being sent now.
    this.#keyFailed = null;
    return this.#setKey(newScbk, opts).then(
      () => {
        this.#keyFailed = null;
      },
      (e: Error) => {
        this.#keyFailed = { keyId: osdpKeyId(newScbk), detail: e.message.slice(0, 200) };
        throw e;
      },
    );
  }

  #setKey(newScbk: Buffer, opts: { timeoutMs?: number }): Promise<void> {
    if (newScbk.length !== 16) return Promise.reject(new Error('an SCBK is 16 bytes'));
    if (!this.#online || !this.#session) return Promise.reject(new Error('no secure session with the PD to send a key over'));
    if (!this.#keys) return Promise.reject(new Error('no key store (dataDir) to keep the key in'));
    if (this.#rekey) return Promise.reject(new Error('a key change is already running'));
    const timeoutMs = opts.timeoutMs ?? 10_000;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.#rekey?.key === newScbk) this.#rekey = null;
        reject(new Error('key change timed out'));
      }, timeoutMs);
      timer.unref?.();
      this.#rekey = {
        key: newScbk,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.#enqueueKeyset(newScbk, 'rotate');
    });
  }

  // ---------- BusDevice ----------

  hasWork(): boolean {
    return this.#online && this.#queue.length > 0;
  }

  portChanged(open: boolean, detail: string): void {
    if (open) {
      this.#nextAttemptAt = 0;
      return;
    }
    this.#lost(`port ${detail}`, false);
  }

  async turn(io: BusIo): Promise<void> {
    if (!this.#started) return;
    if (!this.#online) {
      if (performance.now() < this.#nextAttemptAt) return;
      await this.#connect(io);
      this.#firstAttempt?.();
      return;
    }
    const q = this.#queue.shift();
    if (q) {
      const r = await this.#send(io, q.code, q.data);
      q.done?.(r);
      if (r && r.code !== REPLY.ACK) this.#handleReply(r, q.what);
      return;
    }
    const r = await this.#send(io, CMD.POLL, Buffer.alloc(0));
    if (r) this.#handleReply(r, 'poll');
  }

  // ---------- internals ----------

  #enqueue(q: Queued): void {
    this.#queue.push(q);
    this.#bus.wake();
  }

  #emit(data: string, receivedAt: number): void {
    const input: ReaderInput = { reader: this.name, direction: this.direction, data, receivedAt };
    for (const l of this.#listeners) l(input);
  }

  #condition(c: ReaderCondition): void {
    for (const l of this.#conditionListeners) {
      try {
        l(c);
      } catch (e) {
        this.#cfgLog('warn', { err: (e as Error).message }, 'condition listener failed');
      }
    }
  }

  #cfgLog(level: 'info' | 'warn', o: object, m: string): void {
    this.#log?.[level]({ reader: this.name, path: this.#cfg.path, address: this.address, ...o }, m);
  }

  /**
   * One exchange with this PD, with resends on timeout. Under a secure session the command is MACed (and its data
   * encrypted), the reply's MAC checked and its data decrypted. Null when no (valid) reply came.
   */
  async #send(
    io: BusIo,
    code: number,
    data: Buffer,
    scb?: { type: number; data: Buffer },
  ): Promise<{ code: number; data: Buffer; at: number } | null> {
    const sqn = this.#sqn;
    const session = scb ? null : this.#session;
    let packet: Buffer;
    if (session) {
      const payload = data.length ? session.encryptCommand(data) : data;
      packet = encodeFrame(
        {
          address: this.address,
          reply: false,
          sqn,
          scb: { type: data.length ? SCS.CMD_ENC : SCS.CMD_MAC, data: Buffer.alloc(0) },
          code,
          data: payload,
        },
        (h) => session.macCommand(h),
      );
    } else {
      packet = encodeFrame({ address: this.address, reply: false, sqn, ...(scb ? { scb } : {}), code, data });
    }
    let got: Awaited<ReturnType<BusIo['exchange']>> = null;
    let busy = 0;
    for (let attempt = 0; attempt <= this.#retries && !got && this.#started; attempt++) {
      got = await io.exchange(packet, this.address, sqn);
      // BUSY: the PD did not take the command. The same bytes again shortly (same sequence number and MAC, which
      // the PD has not consumed), not counted as a miss.
      if (got?.frame.code === REPLY.BUSY && !got.frame.scb && busy < BUSY_RETRIES) {
        busy++;
        got = null;
        attempt--;
        await new Promise((r) => setTimeout(r, BUSY_WAIT_MS));
      }
    }
    if (got?.frame.code === REPLY.BUSY && !got.frame.scb) got = null;
    if (!got) {
      this.#missed++;
      if (this.#online && this.#missed >= this.#offlineAfter) this.#lost('no reply from the PD', true);
      return null;
    }
    this.#missed = 0;
    this.#sqn = (sqn % 3) + 1;
    const f = got.frame;
    if (session) {
      if (!f.scb || !f.mac || !f.macInput) {
        // A PD that lost its session answers in plain text (typically NAK 6): start over, never continue in clear.
        this.#lost(f.code === REPLY.NAK ? `secure channel lost: ${nakText(f.data)}` : 'reply without a MAC in a secure session', true);
        return null;
      }
      const plain = f.scb.type === SCS.REPLY_ENC ? session.decryptReply(f.data) : Buffer.from(f.data);
      if (!session.verifyReply(f.macInput, f.mac) || !plain) {
        this.#lost('reply MAC did not verify', true);
        return null;
      }
      return { code: f.code, data: plain, at: got.at };
    }
    return { code: f.code, data: Buffer.from(f.data), at: got.at };
  }

  #keyCandidates(): { key: Buffer; source: KeySource }[] {
    const sc = this.#cfg.secureChannel;
    if (sc === false) return [];
    const out: { key: Buffer; source: KeySource }[] = [];
    const stored = this.#keys?.get(this.name) ?? {};
    if (stored.pending) out.push({ key: stored.pending, source: 'pending' });
    if (stored.scbk) out.push({ key: stored.scbk, source: 'stored' });
    if ('scbk' in sc) out.push({ key: Buffer.from(sc.scbk, 'hex'), source: 'config' });
    // SCBK-D only on the operator's explicit install request, and only until a key of our own exists.
    if ('install' in sc && !stored.scbk) out.push({ key: SCBK_D, source: 'default' });
    return out.filter((c, i) => out.findIndex((o) => o.key.equals(c.key)) === i);
  }

  async #connect(io: BusIo): Promise<void> {
    this.#session = null;
    this.#sqn = 0;
    this.#missed = 0;
    const id = await this.#send(io, CMD.ID, Buffer.from([0]));
    if (!id) return this.#fail('no reply from the PD');
    if (id.code !== REPLY.PDID) return this.#fail(`unexpected reply 0x${id.code.toString(16)} to ID`);
    this.#pd = parsePdId(id.data);
    const cap = await this.#send(io, CMD.CAP, Buffer.from([0]));
    if (!cap) return this.#fail('no reply to CAP');
    if (cap.code === REPLY.PDCAP) this.#caps = parsePdCap(cap.data);

    if (this.#cfg.secureChannel !== false) {
      const ok = await this.#secureChannel(io);
      if (!ok) return;
    } else {
      this.#keySource = null;
    }
    const lstat = await this.#send(io, CMD.LSTAT, Buffer.alloc(0));
    if (!lstat) return this.#fail('no reply to LSTAT');
    this.#handleReply(lstat, 'lstat');

    this.#online = true;
    this.#onlineSince = performance.now();
    this.#missed = 0;
    if (performance.now() - this.#lastLostAt > 5000) this.#backoffMs = this.#reconnect.min;
    this.#slowBackoffMs = this.#slow.min;
    this.#detail = 'online';
    this.#cfgLog('info', { secureChannel: this.#sc, keySource: this.#keySource, pd: this.#pd }, 'osdp reader online');
    if (this.#offlineRaised) {
      this.#offlineRaised = false;
      this.#condition({ kind: 'reader_offline', state: 'cleared', detail: 'back online' });
    }
    // Install mode connected with SCBK-D: replace it with a key of our own before anything else.
    if (this.#keySource === 'default') this.#enqueueKeyset(randomScbk(), 'install');
    const rekey = this.#rekey;
    if (rekey && !this.#queue.some((q) => q.what === 'keyset')) {
      // The KEYSET is done (ACKed, or unanswered and the pending key tried first): this session says how it went.
      this.#rekey = null;
      if (this.#sessionKey?.equals(rekey.key)) rekey.resolve();
      else rekey.reject(new Error('the PD did not take the new key'));
    }
  }

  async #secureChannel(io: BusIo): Promise<boolean> {
    const candidates = this.#keyCandidates();
    if (candidates.length === 0) {
      this.#fail('no secure channel key configured', true);
      return false;
    }
    const pick = candidates[this.#candidate % candidates.length]!;
    const keyType = pick.source === 'default' ? 0 : 1;
    const cpRandom = randomChallenge();
    this.#sc = 'connecting';
    const ch = await this.#send(io, CMD.CHLNG, cpRandom, { type: SCS.CHLNG, data: Buffer.from([keyType]) });
    if (!ch) {
      this.#fail('no reply to CHLNG');
      return false;
    }
    if (ch.code === REPLY.NAK) {
      const code = ch.data[0];
      if (code === NAK.SC_UNSUPPORTED || code === NAK.UNKNOWN) {
        this.#sc = 'rejected';
        this.#fail(`the PD does not support Secure Channel (${nakText(ch.data)}); refusing plain text`, true);
        return false;
      }
      return this.#rejected(pick.source, `NAK to CHLNG: ${nakText(ch.data)}`, candidates.length);
    }
    const cc = ch.code === REPLY.CCRYPT ? parseCcrypt(ch.data) : null;
    if (!cc) {
      this.#fail(`unexpected reply 0x${ch.code.toString(16)} to CHLNG`);
      return false;
    }
    const keys = deriveSessionKeys(pick.key, cpRandom);
    if (!equal16(clientCryptogram(keys, cpRandom, cc.pdRandom), cc.cryptogram)) {
      return this.#rejected(pick.source, 'the PD cryptogram does not verify', candidates.length);
    }
    const server = serverCryptogram(keys, cpRandom, cc.pdRandom);
    const sr = await this.#send(io, CMD.SCRYPT, server, { type: SCS.SCRYPT, data: Buffer.from([keyType]) });
    if (!sr) {
      this.#fail('no reply to SCRYPT');
      return false;
    }
    const rmacI = initialRmac(keys, server);
    if (sr.code !== REPLY.RMAC_I || !equal16(Buffer.from(sr.data).subarray(0, 16), rmacI)) {
      return this.#rejected(
        pick.source,
        sr.code === REPLY.NAK ? `NAK to SCRYPT: ${nakText(sr.data)}` : 'R-MAC-I does not verify',
        candidates.length,
      );
    }
    const session = new SecureSession(keys, rmacI);
    this.#session = session;
    this.#sessionKey = pick.key;
    this.#sc = 'established';
    // A pending key that works is the PD's key now: committed, it is the stored one.
    this.#keySource = pick.source === 'pending' ? 'stored' : pick.source;
    if (pick.source === 'pending') this.#keys?.commit(this.name, pick.key);
    // Another key worked, so the PD never took the pending one.
    else this.#keys?.discardPending(this.name);
    return true;
  }

  #rejected(source: KeySource, why: string, count: number): boolean {
    this.#cfgLog('warn', { keySource: source, why }, 'osdp secure channel refused');
    this.#candidate++;
    // Try the next candidate key soon; once all were refused, back off slowly and say so.
    const all = this.#candidate % count === 0;
    this.#sc = 'rejected';
    this.#fail(all ? KEY_REJECTED : `${KEY_REJECTED} (${source} key); trying the next`, all, !all);
    return false;
  }

  #enqueueKeyset(key: Buffer, why: 'install' | 'rotate'): void {
    this.#queue.unshift({
      code: CMD.KEYSET,
      data: encodeKeyset(key),
      what: 'keyset',
      done: (r) => {
        if (r?.code === REPLY.ACK) {
          this.#keys?.commit(this.name, key);
          this.#cfgLog('info', { why }, 'osdp key set; reconnecting with it');
          // The PD uses the new key from its next session: start one now to prove it.
          this.#reconnectNow('reconnecting with the new key');
        } else if (!r) {
          // No reply: the PD may or may not have the key. It stays pending, and a new connection tries it first:
          // the session that comes up says which key the PD holds (and settles a waiting setKey()).
          this.#cfgLog('warn', { why }, 'osdp: no reply to KEYSET; reconnecting to learn which key the PD holds');
          this.#reconnectNow('no reply to KEYSET');
        } else {
          this.#keys?.discardPending(this.name);
          const why2 = `KEYSET refused: ${r.code === REPLY.NAK ? nakText(r.data) : `reply 0x${r.code.toString(16)}`}`;
          this.#cfgLog('warn', { why: why2 }, 'osdp key not set');
          if (this.#rekey?.key === key) {
            this.#rekey.reject(new Error(why2));
            this.#rekey = null;
          }
        }
      },
    });
    // Stored before it is sent: if we die between the PD's ACK and our commit, the next connection tries it first.
    this.#keys?.setPending(this.name, key);
    this.#bus.wake();
  }

  #reconnectNow(detail: string): void {
    this.#online = false;
    this.#session = null;
    this.#candidate = 0;
    this.#nextAttemptAt = 0;
    this.#detail = detail;
  }

  /** A connection attempt failed: back off (slowly after a key rejection) and report the PD offline once. */
  #fail(detail: string, slow = false, soon = false): void {
    this.#online = false;
    this.#session = null;
    this.#detail = detail;
    let delay: number;
    if (soon) delay = 0;
    else if (slow) {
      delay = this.#slowBackoffMs;
      this.#slowBackoffMs = Math.min(this.#slowBackoffMs * 2, this.#slow.max);
    } else {
      delay = this.#backoffMs;
      this.#backoffMs = Math.min(this.#backoffMs * 2, this.#reconnect.max);
    }
    this.#nextAttemptAt = performance.now() + delay;
    if (!soon) this.#raiseOffline(detail);
  }

  /** An online PD stopped answering or its session broke. */
  #lost(detail: string, raise: boolean): void {
    const was = this.#online;
    this.#lastLostAt = performance.now();
    this.#online = false;
    this.#session = null;
    this.#candidate = 0;
    this.#detail = detail;
    for (const q of this.#queue.splice(0)) q.done?.(null);
    // A session that broke soon after it was made (a PD that keeps losing it) backs off like a failed attempt,
    // so it cannot turn into a reconnect loop; one that ran a while is retried at once.
    const brief = performance.now() - this.#onlineSince < 5000;
    let delay = detail.startsWith('port') ? this.#reconnect.min : 0;
    if (brief) {
      delay = Math.max(delay, this.#backoffMs);
      this.#backoffMs = Math.min(this.#backoffMs * 2, this.#reconnect.max);
    }
    this.#nextAttemptAt = performance.now() + delay;
    if (was) this.#cfgLog('warn', { detail }, 'osdp reader offline');
    if (was || raise) this.#raiseOffline(detail);
  }

  #raiseOffline(detail: string): void {
    if (this.#offlineRaised) return;
    this.#offlineRaised = true;
    this.#condition({ kind: 'reader_offline', state: 'raised', detail });
  }

  #handleReply(r: { code: number; data: Buffer; at: number }, to: string): void {
    switch (r.code) {
      case REPLY.ACK:
      case REPLY.BUSY:
        return;
      case REPLY.RAW: {
        const c = parseRaw(r.data);
        if (!c) return;
        this.#cards++;
        const bits = c.bits;
        const text = bits.length === 26 ? `W26:${bits}` : bits.length === 34 ? `W34:${bits}` : `CARD:${BigInt(`0b${bits}`).toString()}`;
        this.#emit(text, r.at);
        return;
      }
      case REPLY.FMT: {
        const c = parseFmt(r.data);
        if (!c) return;
        this.#cards++;
        this.#emit(`CARD:${c.text.trim()}`, r.at);
        return;
      }
      case REPLY.KEYPAD:
        if (parseKeypad(r.data)) this.#keypadEntries++;
        return;
      case REPLY.LSTATR: {
        const s = parseLstatr(r.data);
        if (!s) return;
        const before = this.#status;
        this.#status = s;
        if (s.tamper !== before.tamper)
          this.#condition({
            kind: 'tamper',
            state: s.tamper ? 'raised' : 'cleared',
            detail: s.tamper ? 'reader tamper switch open' : 'tamper cleared',
          });
        if (s.power !== before.power)
          this.#condition({
            kind: 'power',
            state: s.power ? 'raised' : 'cleared',
            detail: s.power ? 'reader reports power failure' : 'power restored',
          });
        return;
      }
      case REPLY.NAK:
        this.#cfgLog('warn', { to, nak: nakText(r.data) }, 'osdp NAK');
        return;
      default:
        return;
    }
  }
}
