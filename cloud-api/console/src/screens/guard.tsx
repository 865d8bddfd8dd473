import { useCallback, useEffect, useId, useRef, useState } from 'react';
import { Badge, Dialog, Empty, ErrorBox, Field, Loading, PageHead } from '../components/ui.tsx';
import { api, getAll, type Page } from '../lib/api.ts';
import { ago, fmtTime } from '../lib/format.ts';
import { type LiveEvent, useLiveFeed } from '../lib/live.ts';
import { fetchLookup, useLookups } from '../lib/lookups.ts';
import { can } from '../lib/permissions.ts';
import { reasonText } from '../lib/reasons.ts';
import { navigate, useRoute } from '../lib/router.ts';
import type { Checkin, Gate, Pass } from '../lib/types.ts';

interface FeedItem {
  key: string;
  kind: 'checkin' | 'alarm' | 'revoked';
  at: string;
  allow?: boolean;
  reason?: string;
  visitor?: string;
  host?: string;
  gateId?: string;
  gateName?: string | null;
  direction?: string;
  text?: string;
  fresh?: boolean;
}

const MAX_FEED = 200;
const passCache = new Map<string, Promise<Pass | null>>();
const passOf = (id: string) => {
  let p = passCache.get(id);
  if (!p) {
    p = api.get<Pass>(`/api/admin/passes/${id}`).catch(() => null);
    passCache.set(id, p);
  }
  return p;
};

/** Visitor and host names of a check-in: from the event when the server sends them, else from the pass and its appointment. */
async function describe(c: Checkin): Promise<{ visitor: string; host: string }> {
  if (c.visitorName) return { visitor: c.visitorName, host: c.hostName ?? '—' };
  if (!c.passId) return { visitor: c.credentialKind === 'card' ? 'Unknown card' : 'Unknown credential', host: '—' };
  const pass = await passOf(c.passId);
  if (!pass) return { visitor: `Pass …${c.passId.slice(-6)}`, host: '—' };
  const [visitors, appts, hosts] = await Promise.all([fetchLookup('visitors'), fetchLookup('appointments'), fetchLookup('hosts')]);
  const visitor = visitors.find((v) => v.id === pass.visitorId)?.fullName ?? `Visitor …${pass.visitorId.slice(-6)}`;
  const appt = pass.appointmentId ? appts.find((a) => a.id === pass.appointmentId) : undefined;
  const host = appt ? (hosts.find((h) => h.id === appt.hostId)?.fullName ?? '—') : '—';
  return { visitor, host };
}

async function toItem(c: Checkin, fresh: boolean): Promise<FeedItem> {
  const d = await describe(c);
  return {
    key: c.id,
    kind: 'checkin',
    at: c.occurredAt,
    allow: c.allow,
    reason: c.reason,
    visitor: d.visitor,
    host: d.host,
    gateId: c.gateId,
    gateName: c.gateName ?? null,
    direction: c.direction,
    fresh,
  };
}

function CommandDialog({
  gate,
  type,
  onClose,
  onDone,
}: {
  gate: Gate;
  type: 'open' | 'lockdown' | 'release';
  onClose: () => void;
  onDone: (msg: string) => void;
}) {
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const id = useId();
  const verb = type === 'open' ? 'Open' : type === 'lockdown' ? 'Lock down' : 'Release';
  const submit = async () => {
    if (!reason.trim()) {
      setError('A reason is required; it is written to the audit log.');
      return;
    }
    setBusy(true);
    try {
      await api.post(`/api/admin/gates/${gate.id}/commands`, { type, reason: reason.trim() });
      onDone(`${verb}: command sent to ${gate.name}`);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog
      title={`${verb} ${gate.name}`}
      open
      onClose={onClose}
      footer={
        <>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="button" className={type === 'lockdown' ? 'danger' : 'primary'} onClick={submit} disabled={busy}>
            {verb}
          </button>
        </>
      }
    >
      {type === 'lockdown' ? <p>Every credential is refused at this gate until it is released.</p> : null}
      {type === 'open' ? <p>The turnstile opens once, as if a pass had been accepted.</p> : null}
      <Field id={id} label="Reason *" error={error}>
        <input
          id={id}
          value={reason}
          onChange={(e) => setReason(e.target.value)}
          aria-invalid={!!error}
          maxLength={500}
          placeholder={type === 'open' ? 'Courier with a delivery' : 'Fire alarm drill'}
        />
      </Field>
    </Dialog>
  );
}

export function GuardPage() {
  const route = useRoute();
  const { lookups, ready } = useLookups(['sites']);
  const sites = [...(lookups.sites?.values() ?? [])];
  const siteId = route.query.get('site') ?? sites[0]?.id ?? '';
  const site = lookups.sites?.get(siteId);
  const [feed, setFeed] = useState<FeedItem[]>([]);
  const [alarms, setAlarms] = useState<FeedItem[]>([]);
  const [gates, setGates] = useState<Gate[] | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [command, setCommand] = useState<{ gate: Gate; type: 'open' | 'lockdown' | 'release' } | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [now, setNow] = useState(Date.now());
  const siteRef = useRef(siteId);
  siteRef.current = siteId;
  const selectId = useId();
  const canCommand = can('gates:command');

  const loadGates = useCallback(async () => {
    if (!siteId) return;
    try {
      setGates(await getAll<Gate>('/api/admin/gates', { siteId }, 500));
    } catch (e) {
      setLoadError(e);
    }
  }, [siteId]);

  useEffect(() => {
    if (!siteId) return;
    let alive = true;
    setFeed([]);
    setGates(null);
    setLoadError(null);
    void loadGates();
    api
      .get<Page<Checkin>>('/api/admin/checkins', { siteId, limit: 30 })
      .then((pg) => Promise.all(pg.items.map((c) => toItem(c, false))))
      .then((items) => alive && setFeed((prev) => [...prev, ...items.filter((i) => !prev.some((p) => p.key === i.key))]))
      .catch((e: unknown) => alive && setLoadError(e));
    const t = setInterval(loadGates, 30_000);
    return () => {
      alive = false;
      clearInterval(t);
    };
  }, [siteId, loadGates]);

  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 5000);
    return () => clearInterval(t);
  }, []);

  const onEvent = useCallback((e: LiveEvent) => {
    const data = e.data ?? {};
    if (e.type === 'checkin.created') {
      const c = data as unknown as Checkin;
      if (c.siteId !== siteRef.current) return;
      void toItem(c, true).then((item) =>
        setFeed((prev) => (prev.some((p) => p.key === item.key) ? prev : [item, ...prev].slice(0, MAX_FEED))),
      );
    } else if (e.type === 'gate.status_changed') {
      const g = data as Partial<Gate> & { id?: string; gateId?: string };
      const gid = g.id ?? g.gateId;
      setGates((prev) => prev?.map((x) => (x.id === gid ? { ...x, ...g, id: x.id } : x)) ?? prev);
    } else if (e.type === 'alarm.raised') {
      const a = data as {
        id?: string;
        gateId?: string;
        siteId?: string;
        kind?: string;
        message?: string;
        at?: string;
        occurredAt?: string;
      };
      if (a.siteId && a.siteId !== siteRef.current) return;
      const item: FeedItem = {
        key: a.id ?? `alarm-${Date.now()}-${Math.random()}`,
        kind: 'alarm',
        at: a.at ?? a.occurredAt ?? new Date().toISOString(),
        text: a.message ?? a.kind ?? 'Alarm',
        ...(a.gateId ? { gateId: a.gateId } : {}),
        fresh: true,
      };
      setAlarms((prev) => [item, ...prev].slice(0, 50));
    } else if (e.type === 'pass.revoked') {
      // The server sends the pass as GET /api/admin/passes/:id shows it.
      const p = data as { id?: string; passId?: string; reason?: string; revokedReason?: string | null; visitorId?: string };
      const id = p.passId ?? p.id ?? '';
      const reason = p.reason ?? p.revokedReason ?? null;
      passCache.delete(id);
      void fetchLookup('visitors')
        .then((vs) => vs.find((v) => v.id === p.visitorId)?.fullName ?? `…${id.slice(-6)}`)
        .catch(() => `…${id.slice(-6)}`)
        .then((who) =>
          setFeed((prev) =>
            [
              {
                key: `rev-${id}-${Date.now()}`,
                kind: 'revoked' as const,
                at: new Date().toISOString(),
                text: `Pass of ${who} revoked${reason ? `: ${reason}` : ''}`,
                fresh: true,
              },
              ...prev,
            ].slice(0, MAX_FEED),
          ),
        );
    }
  }, []);
  const link = useLiveFeed(onEvent);
  const gateName = (id?: string, given?: string | null) =>
    given ?? (id ? (gates?.find((g) => g.id === id)?.name ?? `Gate …${id.slice(-6)}`) : '—');

  if (ready && sites.length === 0) {
    return (
      <>
        <PageHead title="Guard view" />
        <Empty>No sites yet. Create a site and its gates first.</Empty>
      </>
    );
  }

  return (
    <>
      <PageHead title={site ? `Guard view · ${site.name}` : 'Guard view'}>
        <span className="link-state" role="status" aria-live="polite" data-testid="link-state" data-state={link.state}>
          <span className={`dot ${link.state === 'online' ? 'on' : link.state === 'offline' ? 'off' : ''}`} aria-hidden="true" />
          {link.state === 'online'
            ? 'Live'
            : link.state === 'connecting'
              ? 'Connecting…'
              : `Offline — retrying${link.retryIn !== null ? ` in ${link.retryIn} s` : ''}`}
        </span>
        {sites.length > 1 ? (
          <div className="field" style={{ margin: 0 }}>
            <label htmlFor={selectId} className="sr-only">
              Site
            </label>
            <select id={selectId} value={siteId} onChange={(e) => navigate(`/guard?site=${e.target.value}`)}>
              {sites.map((s) => (
                <option key={s.id} value={s.id}>
                  {s.name}
                </option>
              ))}
            </select>
          </div>
        ) : null}
      </PageHead>
      {link.state === 'offline' ? (
        <div className="alert warn" role="alert">
          The live feed is disconnected. New entries will appear when it reconnects; the list below may be behind.
        </div>
      ) : null}
      {notice ? (
        <div className="alert info" role="status">
          {notice}
        </div>
      ) : null}
      <ErrorBox error={loadError} />
      <div className="guard">
        <section className="card" aria-labelledby="feed-h">
          <h2 id="feed-h">Entries</h2>
          {feed.length === 0 ? (
            <Empty>No entries yet. Attempts at this site’s gates appear here as they happen.</Empty>
          ) : (
            <ul className="feed" aria-live="polite" data-testid="feed">
              {feed.map((f) =>
                f.kind === 'checkin' ? (
                  <li
                    key={f.key}
                    className={`${f.allow ? 'allowed' : 'denied'}${f.fresh ? ' fresh' : ''}`}
                    data-reason={f.reason}
                    data-key={f.key}
                  >
                    <span className="stripe" aria-hidden="true" />
                    <div>
                      <div>
                        <span className={`verdict ${f.allow ? 'ok' : 'deny'}`}>{f.allow ? 'ALLOWED' : 'DENIED'}</span>{' '}
                        <span className="who">{f.visitor}</span>
                        {f.allow && f.reason === 'ok' ? null : <span> — {reasonText(f.reason ?? '')}</span>}
                      </div>
                      <div className="muted">
                        {gateName(f.gateId, f.gateName)} · {f.direction === 'out' ? 'exit' : 'entry'} · host {f.host}
                      </div>
                    </div>
                    <time className="muted nowrap" dateTime={f.at}>
                      {fmtTime(f.at)}
                    </time>
                  </li>
                ) : (
                  <li key={f.key} className="alarm" data-key={f.key}>
                    <span className="stripe" aria-hidden="true" />
                    <div>{f.text}</div>
                    <time className="muted nowrap" dateTime={f.at}>
                      {fmtTime(f.at)}
                    </time>
                  </li>
                ),
              )}
            </ul>
          )}
        </section>
        <div>
          <section className="card" aria-labelledby="alarms-h" style={{ marginBottom: 16 }}>
            <h2 id="alarms-h">Alarms</h2>
            {alarms.length === 0 ? (
              <p className="muted">No alarms.</p>
            ) : (
              <ul className="feed" data-testid="alarms">
                {alarms.map((a) => (
                  <li key={a.key} className="alarm">
                    <span className="stripe" aria-hidden="true" />
                    <div>
                      <strong>{a.text}</strong>
                      {a.gateId ? <div className="muted">{gateName(a.gateId)}</div> : null}
                    </div>
                    <time className="muted nowrap" dateTime={a.at}>
                      {fmtTime(a.at)}
                    </time>
                  </li>
                ))}
              </ul>
            )}
          </section>
          <section className="card" aria-labelledby="gates-h">
            <h2 id="gates-h">Gates</h2>
            {gates === null ? (
              <Loading />
            ) : gates.length === 0 ? (
              <p className="muted">No gates at this site.</p>
            ) : (
              gates.map((g) => (
                <div className="gate-row" key={g.id} data-testid="gate-row">
                  <div>
                    <div>
                      <strong>{g.name}</strong>
                    </div>
                    <div className="actions">
                      {g.online ? <Badge tone="ok">online</Badge> : <Badge tone="deny">offline</Badge>}
                      {g.lockdown ? <Badge tone="warn">lockdown</Badge> : null}
                      <span className="muted">{g.lastSeenAt ? `seen ${ago(g.lastSeenAt, now)}` : 'never seen'}</span>
                    </div>
                  </div>
                  {canCommand ? (
                    <div className="actions">
                      <button type="button" onClick={() => setCommand({ gate: g, type: 'open' })} disabled={g.lockdown}>
                        Open
                      </button>
                      {g.lockdown ? (
                        <button type="button" onClick={() => setCommand({ gate: g, type: 'release' })}>
                          Release
                        </button>
                      ) : (
                        <button type="button" className="danger" onClick={() => setCommand({ gate: g, type: 'lockdown' })}>
                          Lockdown
                        </button>
                      )}
                    </div>
                  ) : null}
                </div>
              ))
            )}
          </section>
        </div>
      </div>
      {command ? (
        <CommandDialog
          gate={command.gate}
          type={command.type}
          onClose={() => setCommand(null)}
          onDone={(msg) => {
            setCommand(null);
            setNotice(msg);
            void loadGates();
          }}
        />
      ) : null}
    </>
  );
}
