import { useQuery } from '@tanstack/react-query';
import { useCallback, useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { optionsOf, SelectField } from '../../components/SelectField.tsx';
import { Badge, Empty, ErrorBox, Loading, PageHead } from '../../components/ui.tsx';
import { api, getAll, type Page } from '../../lib/api.ts';
import { ago, fmtTime } from '../../lib/format.ts';
import { type LiveEvent, useLiveFeed } from '../../lib/live.ts';
import { shortId, useLookups } from '../../lib/lookups.ts';
import { can } from '../../lib/permissions.ts';
import { invalidate, PATHS, queryClient } from '../../lib/query.ts';
import { reasonText } from '../../lib/reasons.ts';
import { navigate, useRoute } from '../../lib/router.ts';
import type { Checkin, Gate, Visitor } from '../../lib/types.ts';
import { AlarmPanel } from './AlarmPanel.tsx';
import { alarmBus } from './alarmBus.ts';
import type { SiteWithMode } from './alarms.ts';
import { CommandDialog } from './CommandDialog.tsx';
import { ForgiveDialog } from './ForgiveDialog.tsx';
import { SiteModeBar } from './SiteMode.tsx';
import './guard.css';
import { type FeedItem, MAX_FEED, toItem } from './feed.ts';
import { whoText } from './words.ts';

const gatesOfSite = (siteId: string) => [PATHS.gates, 'site', siteId] as const;

/** The guard's screen for one site: entries as they happen, alarms, and the gates with their manual commands. */
export function GuardPage() {
  const { t } = useTranslation(['guard', 'common', 'alarms']);
  const route = useRoute();
  const { lookups, ready } = useLookups(['sites']);
  const sites = [...(lookups.sites?.values() ?? [])];
  const siteId = route.query.get('site') ?? sites[0]?.id ?? '';
  const site: SiteWithMode | undefined = lookups.sites?.get(siteId);
  const [feed, setFeed] = useState<FeedItem[]>([]);
  const [forgive, setForgive] = useState<{ key: string; passId: string; who: string } | null>(null);
  const [forgiven, setForgiven] = useState<{ key: string; passId: string; who: string } | null>(null);
  // The denial rows already answered, so a guard does not forgive the same one twice.
  const [forgivenKeys, setForgivenKeys] = useState<ReadonlySet<string>>(new Set());
  const [feedError, setFeedError] = useState<unknown>(null);
  const [command, setCommand] = useState<{ gate: Gate; type: 'open' | 'lockdown' | 'release' } | null>(null);
  const [notice, setNotice] = useState<{ type: 'open' | 'lockdown' | 'release'; gate: string } | null>(null);
  const [now, setNow] = useState(Date.now());
  const siteRef = useRef(siteId);
  siteRef.current = siteId;
  const canCommand = can('gates:command');
  const canForgive = can('passback:forgive');

  // The site's gates, read again every 30 s and after a command; live status changes patch them in between.
  const gatesQuery = useQuery({
    queryKey: gatesOfSite(siteId),
    queryFn: () => getAll<Gate>(PATHS.gates, { siteId }, 500),
    enabled: !!siteId,
    refetchInterval: 30_000,
    refetchIntervalInBackground: true,
  });
  const gates = gatesQuery.data ?? null;

  // The feed starts with the site's latest check-ins; live events add to it.
  useEffect(() => {
    if (!siteId) return;
    let alive = true;
    setFeed([]);
    setFeedError(null);
    api
      .get<Page<Checkin>>(PATHS.checkins, { siteId, limit: 30 })
      .then((pg) => pg.items.map((c) => toItem(c, false)))
      .then((items) => alive && setFeed((prev) => [...prev, ...items.filter((i) => !prev.some((p) => p.key === i.key))]))
      .catch((e: unknown) => alive && setFeedError(e));
    return () => {
      alive = false;
    };
  }, [siteId]);

  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 5000);
    return () => clearInterval(t);
  }, []);

  const onEvent = useCallback((e: LiveEvent) => {
    const data = e.data ?? {};
    if (e.type === 'checkin.created') {
      const c = data as unknown as Checkin;
      if (c.siteId !== siteRef.current) return;
      const item = toItem(c, true);
      setFeed((prev) => (prev.some((p) => p.key === item.key) ? prev : [item, ...prev].slice(0, MAX_FEED)));
    } else if (e.type === 'gate.status_changed') {
      const g = data as Partial<Gate> & { id?: string; gateId?: string };
      const gid = g.id ?? g.gateId;
      queryClient.setQueriesData<Gate[]>({ queryKey: [PATHS.gates, 'site'] }, (prev) =>
        prev?.map((x) => (x.id === gid ? { ...x, ...g, id: x.id } : x)),
      );
    } else if (alarmBus.handle(e.type, data)) {
      // The open alarms live in the query cache; the panel sounds a new one.
    } else if (e.type === 'site.mode_changed') {
      void invalidate(PATHS.sites);
    } else if (e.type === 'pass.revoked') {
      // The server sends the pass as GET /api/admin/passes/:id shows it.
      const p = data as { id?: string; passId?: string; reason?: string; revokedReason?: string | null; visitorId?: string };
      const id = p.passId ?? p.id ?? '';
      const reason = p.reason ?? p.revokedReason ?? null;
      void invalidate(PATHS.passes);
      // The visitor by id: a large organisation's visitors are more than the console loads.
      const visitor = p.visitorId ? api.get<Visitor>(`${PATHS.visitors}/${p.visitorId}`) : Promise.reject(new Error('no visitor'));
      void visitor
        .then((v) => v.fullName)
        .catch(() => shortId(id))
        .then((who) =>
          setFeed((prev) =>
            [
              {
                key: `rev-${id}-${Date.now()}`,
                kind: 'revoked' as const,
                at: new Date().toISOString(),
                revoked: { who, reason },
                fresh: true,
              },
              ...prev,
            ].slice(0, MAX_FEED),
          ),
        );
    }
  }, []);
  const link = useLiveFeed(onEvent);
  // Events missed while the link was down: the open alarms and the sites' modes are read again on every (re)connect.
  useEffect(() => {
    if (link.state === 'online') void invalidate(PATHS.alarms, PATHS.sites);
  }, [link.state]);
  const zoneOf = useCallback((id: string) => lookups.sites?.get(id)?.timezone, [lookups.sites]);
  const gateName = (id?: string) => (id ? (gates?.find((g) => g.id === id)?.name ?? t('gateTail', { id: id.slice(-6) })) : '—');
  // The feed's times are the site's: a guard compares them with the turnstile's clock.
  const tz = site?.timezone;
  const lineText = (f: FeedItem) =>
    f.revoked
      ? f.revoked.reason
        ? t('feed.revokedWhy', { who: f.revoked.who, reason: f.revoked.reason })
        : t('feed.revoked', { who: f.revoked.who })
      : (f.text ?? t('alarm'));

  if (ready && sites.length === 0) {
    return (
      <>
        <PageHead title={t('title')} />
        <Empty>{t('noSites')}</Empty>
      </>
    );
  }

  return (
    <>
      <PageHead title={site ? t('titleSite', { site: site.name }) : t('title')}>
        <span className="link-state" role="status" aria-live="polite" data-testid="link-state" data-state={link.state}>
          <span className={`dot ${link.state === 'online' ? 'on' : link.state === 'offline' ? 'off' : ''}`} aria-hidden="true" />
          {link.state === 'online'
            ? t('link.live')
            : link.state === 'connecting'
              ? t('link.connecting')
              : link.retryIn !== null
                ? t('link.retryIn', { count: link.retryIn })
                : t('link.retrying')}
        </span>
        {sites.length > 1 ? (
          <SelectField
            label={t('site')}
            hideLabel
            options={optionsOf(sites)}
            value={siteId}
            onChange={(id) => navigate(`/guard?site=${id}`)}
          />
        ) : null}
      </PageHead>
      {link.state === 'offline' ? (
        <div className="alert warn" role="alert">
          {t('disconnected')}
        </div>
      ) : null}
      {notice ? (
        <div className="alert info" role="status">
          {t(`command.sent.${notice.type}`, { gate: notice.gate })}
        </div>
      ) : null}
      {forgiven ? (
        <div className="alert info" role="status" data-testid="forgiven">
          {t('forgive.done', { who: forgiven.who })}
        </div>
      ) : null}
      {site ? <SiteModeBar site={site} /> : null}
      {can('alarms:read') ? <AlarmPanel now={now} zoneOf={zoneOf} /> : null}
      <ErrorBox error={gatesQuery.error ?? feedError} />
      <div className="guard">
        <section className="card" aria-labelledby="feed-h">
          <h2 id="feed-h">{t('entries')}</h2>
          {feed.length === 0 ? (
            <Empty>{t('noEntries')}</Empty>
          ) : (
            <ul className="feed" aria-live="polite" data-testid="feed">
              {feed.map((f) =>
                f.kind === 'checkin' && f.condition ? (
                  <li key={f.key} className={`alarm${f.fresh ? ' fresh' : ''}`} data-key={f.key} data-condition={f.condition.kind}>
                    <span className="stripe" aria-hidden="true" />
                    <div>
                      <div>
                        <span className="verdict alarm">
                          {f.condition.state === 'raised' ? t('feed.conditionRaised') : t('feed.conditionCleared')}
                        </span>{' '}
                        <span className="who">{t(`alarms:kind.${f.condition.kind}`, { defaultValue: f.condition.kind })}</span>
                      </div>
                      <div className="muted">{gateName(f.gateId)}</div>
                    </div>
                    <time className="muted nowrap" dateTime={f.at}>
                      {fmtTime(f.at, tz)}
                    </time>
                  </li>
                ) : f.kind === 'checkin' ? (
                  <li
                    key={f.key}
                    className={`${f.allow ? 'allowed' : 'denied'}${f.fresh ? ' fresh' : ''}`}
                    data-reason={f.reason}
                    data-key={f.key}
                  >
                    <span className="stripe" aria-hidden="true" />
                    <div>
                      <div>
                        <span className={`verdict ${f.allow ? 'ok' : 'deny'}`}>{f.allow ? t('verdict.allowed') : t('verdict.denied')}</span>{' '}
                        <span className="who">{whoText(f.visitor)}</span>
                        {f.allow && f.reason === 'ok' ? null : <span> — {reasonText(f.reason ?? '')}</span>}
                        {f.allow && f.alert === 'passback' ? (
                          <span>
                            {' '}
                            <Badge tone="warn">{t('feed.passbackAlert')}</Badge>
                          </span>
                        ) : null}
                        {f.host ? (
                          <span className="muted" data-testid="host">
                            {' '}
                            · {t('host', { name: f.host })}
                          </span>
                        ) : null}
                      </div>
                      <div className="muted">
                        {gateName(f.gateId)} · {t(f.direction === 'out' ? 'common:direction.out' : 'common:direction.in')}
                      </div>
                    </div>
                    <div className="feed-end">
                      <time className="muted nowrap" dateTime={f.at}>
                        {fmtTime(f.at, tz)}
                      </time>
                      {canForgive && !f.allow && f.reason === 'passback' && f.passId && forgivenKeys.has(f.key) ? (
                        <Badge tone="ok">{t('forgive.badge')}</Badge>
                      ) : canForgive && !f.allow && f.reason === 'passback' && f.passId ? (
                        <button
                          type="button"
                          className="small"
                          onClick={() => f.passId && setForgive({ key: f.key, passId: f.passId, who: whoText(f.visitor) })}
                        >
                          {t('forgive.button')}
                        </button>
                      ) : null}
                    </div>
                  </li>
                ) : (
                  <li key={f.key} className="alarm" data-key={f.key}>
                    <span className="stripe" aria-hidden="true" />
                    <div>{lineText(f)}</div>
                    <time className="muted nowrap" dateTime={f.at}>
                      {fmtTime(f.at, tz)}
                    </time>
                  </li>
                ),
              )}
            </ul>
          )}
        </section>
        <div>
          <section className="card" aria-labelledby="gates-h">
            <h2 id="gates-h">{t('gates')}</h2>
            {gates === null ? (
              <Loading />
            ) : gates.length === 0 ? (
              <p className="muted">{t('noGates')}</p>
            ) : (
              gates.map((g) => (
                <div className="gate-row" key={g.id} data-testid="gate-row">
                  <div>
                    <div>
                      <strong>{g.name}</strong>
                    </div>
                    <div className="actions">
                      {g.online ? (
                        <Badge tone="ok">{t('common:gate.online')}</Badge>
                      ) : (
                        <Badge tone="deny">{t('common:gate.offline')}</Badge>
                      )}
                      {g.lockdown ? <Badge tone="warn">{t('common:gate.lockdown')}</Badge> : null}
                      {g.emergency ? <Badge tone="warn">{t('gateEmergency')}</Badge> : null}
                      <span className="muted">
                        {g.lastSeenAt ? t('common:seen', { ago: ago(g.lastSeenAt, now) }) : t('common:neverSeen')}
                      </span>
                    </div>
                  </div>
                  {canCommand ? (
                    <div className="actions">
                      <button type="button" onClick={() => setCommand({ gate: g, type: 'open' })} disabled={g.lockdown}>
                        {t('command.button.open')}
                      </button>
                      {g.lockdown ? (
                        <button type="button" onClick={() => setCommand({ gate: g, type: 'release' })}>
                          {t('command.button.release')}
                        </button>
                      ) : (
                        <button type="button" className="danger" onClick={() => setCommand({ gate: g, type: 'lockdown' })}>
                          {t('command.button.lockdown')}
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
      {forgive ? (
        <ForgiveDialog
          passId={forgive.passId}
          siteId={siteId}
          who={forgive.who}
          onClose={() => setForgive(null)}
          onDone={() => {
            setForgiven(forgive);
            setForgivenKeys((prev) => new Set(prev).add(forgive.key));
            setForgive(null);
          }}
        />
      ) : null}
      {command ? (
        <CommandDialog
          gate={command.gate}
          type={command.type}
          onClose={() => setCommand(null)}
          onDone={() => {
            setCommand(null);
            setNotice({ type: command.type, gate: command.gate.name });
          }}
        />
      ) : null}
    </>
  );
}
