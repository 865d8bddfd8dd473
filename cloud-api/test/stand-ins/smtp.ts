/**
 * A real SMTP server (`smtp-server`) on a free loopback port, standing in for
 * an organisation's mail server: every message it takes is parsed with
 * `mailparser` as a mail client would read it. Plain text on loopback (no
 * STARTTLS); with `auth` it requires exactly those credentials, without it it
 * offers no AUTH at all. `refuse` makes it answer 451 to every recipient: a
 * server that is up but cannot take mail now.
 *
 * Used by smtp.test.ts, browser/smtp-retry.test.ts and, through
 * `@gatehouse/cloud-api/testing/smtp`, the end-to-end journey test.
 */
import type { AddressInfo } from 'node:net';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  /** The envelope's recipients (RCPT TO), lower-cased. */
  to: string[];
  mail: ParsedMail;
  /** Date.now() when the message was taken. */
  at: number;
}

export interface SmtpStandIn {
  /** SMTP_URL for the cloud (with the credentials when the server requires them). */
  url: string;
  port: number;
  /** Every message taken, in order. */
  received: ReceivedMail[];
  /** Every RCPT TO offered, refused or not: attempts as seen on the wire. */
  offered: string[];
  /** 451 to every recipient while set. */
  refuse: boolean;
  /** The first message taken for `address` (envelope recipient). */
  mailTo(address: string): ParsedMail | undefined;
  close(): Promise<void>;
}

/** `port`: listen there (a restarted server in a chaos test comes back where the cloud's SMTP_URL points). */
export async function startSmtpServer(
  opts: { auth?: { user: string; pass: string }; refuse?: boolean; port?: number } = {},
): Promise<SmtpStandIn> {
  const { auth } = opts;
  const received: ReceivedMail[] = [];
  const offered: string[] = [];
  const state = { refuse: opts.refuse ?? false };
  const server = new SMTPServer({
    logger: false,
    ...(auth
      ? {
          authMethods: ['PLAIN', 'LOGIN'],
          disabledCommands: ['STARTTLS'],
          allowInsecureAuth: true,
          onAuth(a, _session, cb) {
            if (a.username === auth.user && a.password === auth.pass) cb(null, { user: a.username });
            else cb(new Error('Invalid username or password'));
          },
        }
      : { disabledCommands: ['STARTTLS', 'AUTH'] }),
    onRcptTo(address, _session, cb) {
      offered.push(address.address);
      if (!state.refuse) return cb();
      const err = new Error('Mailbox temporarily unavailable') as Error & { responseCode: number };
      err.responseCode = 451;
      cb(err);
    },
    onData(stream, session, cb) {
      simpleParser(stream).then(
        (mail) => {
          received.push({ to: session.envelope.rcptTo.map((r) => r.address.toLowerCase()), mail, at: Date.now() });
          cb();
        },
        (err: Error) => cb(err),
      );
    },
  });
  await new Promise<void>((r) => server.listen(opts.port ?? 0, '127.0.0.1', r));
  const port = (server.server.address() as AddressInfo).port;
  const creds = auth ? `${encodeURIComponent(auth.user)}:${encodeURIComponent(auth.pass)}@` : '';
  return {
    url: `smtp://${creds}127.0.0.1:${port}`,
    port,
    received,
    offered,
    get refuse() {
      return state.refuse;
    },
    set refuse(v: boolean) {
      state.refuse = v;
    },
    mailTo: (address) => received.find((r) => r.to.includes(address.toLowerCase()))?.mail,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
