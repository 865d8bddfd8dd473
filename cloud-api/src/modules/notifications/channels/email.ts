/**
 * E-mail through nodemailer. With SMTP_URL set, messages go to that server
 * (connect, greeting and socket timeouts of NOTIFY_TIMEOUT_S, so a dead or
 * silent server fails the attempt in seconds and the queue retries later). Without it the cloud runs a development mailbox:
 * every message is composed exactly as it would be sent (a real .eml) and
 * kept under `<dataDir>/mailbox/`, or in memory when there is no data
 * directory (tests); the console shows it. Nothing leaves the machine.
 */
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { uuidv7 } from '@gatehouse/protocol';
import nodemailer from 'nodemailer';
import type { AppContext } from '../../../context.js';
import { breakersOf } from '../../../lib/breaker.js';
import type { Attachment } from '../outbox.js';
import type { ChannelAdapter, OrgDelivery, Rendered } from './channel.js';
import { PermanentDeliveryError } from './channel.js';

export interface MailSummary {
  id: string;
  to: string;
  subject: string;
  /** ISO time it was "sent". */
  date: string;
}

export interface MailMessage extends MailSummary {
  text: string;
  html: string;
  attachments: string[];
}

/** The development mailbox: what the console lists instead of a real inbox. */
export interface Mailbox {
  /** Newest first, this organisation's only. */
  list(orgId: string, limit?: number): Promise<MailSummary[]>;
  get(orgId: string, id: string): Promise<MailMessage | null>;
  store(orgId: string, m: Omit<MailMessage, 'id' | 'date'>, eml: Buffer): Promise<MailSummary>;
}

interface Stored extends MailMessage {
  orgId: string;
}

class MemoryMailbox implements Mailbox {
  readonly #messages: Stored[] = [];
  async list(orgId: string, limit = 200) {
    return this.#messages
      .filter((m) => m.orgId === orgId)
      .slice(-limit)
      .reverse()
      .map(({ id, to, subject, date }) => ({ id, to, subject, date }));
  }
  async get(orgId: string, id: string) {
    const m = this.#messages.find((x) => x.id === id && x.orgId === orgId);
    if (!m) return null;
    const { orgId: _, ...rest } = m;
    return rest;
  }
  async store(orgId: string, m: Omit<MailMessage, 'id' | 'date'>) {
    const s: Stored = { ...m, id: uuidv7(), date: new Date().toISOString(), orgId };
    this.#messages.push(s);
    return { id: s.id, to: s.to, subject: s.subject, date: s.date };
  }
}

/** `<dir>/<id>.eml` (the message as sent), `<id>.json` (its parts for the console), `index.jsonl` (one line per message). */
class DiskMailbox implements Mailbox {
  constructor(readonly dir: string) {}
  async list(orgId: string, limit = 200) {
    let raw = '';
    try {
      raw = await readFile(join(this.dir, 'index.jsonl'), 'utf8');
    } catch {
      return [];
    }
    const out: MailSummary[] = [];
    for (const line of raw.split('\n')) {
      if (!line.trim()) continue;
      try {
        const e = JSON.parse(line) as MailSummary & { orgId: string };
        if (e.orgId === orgId) out.push({ id: e.id, to: e.to, subject: e.subject, date: e.date });
      } catch {
        // A line cut short by a crash is skipped, not fatal.
      }
    }
    return out.slice(-limit).reverse();
  }
  async get(orgId: string, id: string) {
    // Ids are UUIDs we made; anything else never reaches the file system.
    if (!/^[0-9a-f-]{36}$/.test(id)) return null;
    try {
      const s = JSON.parse(await readFile(join(this.dir, `${id}.json`), 'utf8')) as Stored;
      if (s.orgId !== orgId) return null;
      const { orgId: _, ...rest } = s;
      return rest;
    } catch {
      return null;
    }
  }
  async store(orgId: string, m: Omit<MailMessage, 'id' | 'date'>, eml: Buffer) {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const s: Stored = { ...m, id: uuidv7(), date: new Date().toISOString(), orgId };
    await writeFile(join(this.dir, `${s.id}.eml`), eml, { mode: 0o600 });
    await writeFile(join(this.dir, `${s.id}.json`), JSON.stringify(s), { mode: 0o600 });
    const entry = { id: s.id, orgId, to: s.to, subject: s.subject, date: s.date };
    await appendFile(join(this.dir, 'index.jsonl'), `${JSON.stringify(entry)}\n`, { mode: 0o600 });
    return entry;
  }
}

const mailboxes = new WeakMap<AppContext, Mailbox>();

/** The development mailbox of this app, or null when SMTP is configured (mail really leaves). */
export function mailboxOf(ctx: AppContext): Mailbox | null {
  if (ctx.config.notify.smtpUrl) return null;
  let m = mailboxes.get(ctx);
  if (!m) {
    m = ctx.config.dataDir ? new DiskMailbox(join(ctx.config.dataDir, 'mailbox')) : new MemoryMailbox();
    mailboxes.set(ctx, m);
  }
  return m;
}

/** An invitation's calendar entry is an invitation to mail clients too (their "accept" buttons). */
function mailAttachment(a: Attachment) {
  const contentType =
    a.contentType.startsWith('text/calendar') && !/method=/i.test(a.contentType) ? `${a.contentType}; method=REQUEST` : a.contentType;
  return { filename: a.filename, content: a.content, contentType };
}

/** nodemailer's codes for a server that cannot be reached or went silent; an SMTP reply (4xx/5xx) is the server answering, not a dead one. */
const SMTP_CONNECTION_CODES = new Set(['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS', 'ECONNREFUSED', 'ECONNRESET', 'EGREETING']);
const isSmtpConnectionFailure = ({ error }: { error?: unknown }): boolean =>
  error !== undefined && SMTP_CONNECTION_CODES.has(String((error as { code?: unknown }).code));

export function emailChannel(ctx: AppContext): ChannelAdapter {
  const { smtpUrl, mailFrom, timeoutMs } = ctx.config.notify;
  // A server that accepts the connection and never greets (or goes silent mid-message) is bounded like one that refuses.
  const smtp = smtpUrl
    ? nodemailer.createTransport({
        url: smtpUrl,
        connectionTimeout: timeoutMs,
        greetingTimeout: timeoutMs,
        socketTimeout: timeoutMs,
      })
    : null;
  const smtpDependency = smtpUrl ? `smtp:${new URL(smtpUrl).host}` : '';
  const dev = smtp ? null : nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    async send(to: string, m: Rendered, org: OrgDelivery) {
      if (!/^[^\s@]+@[^\s@]+$/.test(to)) throw new PermanentDeliveryError('not an e-mail address');
      const mail = {
        from: mailFrom,
        to,
        subject: m.subject,
        text: m.text,
        html: m.html,
        attachments: m.attachments.map(mailAttachment),
      };
      if (smtp) {
        // A dead server fails fast once its breaker is open; the outbox retries the message later.
        await breakersOf(ctx).run(smtpDependency, () => smtp.sendMail(mail), isSmtpConnectionFailure);
        return;
      }
      const info = await dev!.sendMail(mail);
      const eml = Buffer.isBuffer(info.message) ? info.message : Buffer.from(String(info.message));
      await mailboxOf(ctx)!.store(
        org.orgId,
        { to, subject: m.subject, text: m.text, html: m.html, attachments: m.attachments.map((a) => a.filename) },
        eml,
      );
    },
  };
}
