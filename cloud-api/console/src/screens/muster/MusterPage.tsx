/**
 * The muster report (/muster, permission muster:read): who is inside each
 * site and zone now, for the roll call of an evacuation. Live (refetched on
 * the events that change it, and every 10 s in case the feed is down), usable
 * on a phone at the assembly point (one column, large text, a tick per person
 * kept on the device), printable (each zone's list with its header and the
 * time), and as the server's CSV.
 */
import { useQuery } from '@tanstack/react-query';
import { useCallback, useEffect, useId, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { optionsOf, SelectField } from '../../components/SelectField.tsx';
import { Badge, Empty, ErrorBox, Loading, PageHead } from '../../components/ui.tsx';
import { api, request, withQuery } from '../../lib/api.ts';
import { fmtDateTime, fmtTime } from '../../lib/format.ts';
import { type LiveEvent, useLiveFeed } from '../../lib/live.ts';
import { useLookups } from '../../lib/lookups.ts';
import { PATHS } from '../../lib/query.ts';
import { navigate, useRoute } from '../../lib/router.ts';
import type { Muster, MusterItem, MusterSite } from '../../lib/types.ts';
import { download } from '../history/csv.ts';
import { tickKey, useRollCall } from './rollcall.ts';

import './muster.css';

/** The fallback when the live feed is down; the feed itself makes changes show within a second. */
const POLL_MS = 10_000;
/** A burst of entries at a turnstile becomes one refetch. */
const DEBOUNCE_MS = 400;

/** Does this live event change the report? Counted passages do (an unlock nobody used does not), and a site's mode. */
function changesMuster(e: LiveEvent): boolean {
  if (e.type === 'presence.changed' || e.type === 'site.mode_changed') return true;
  return e.type === 'checkin.created' && e.data.counted === true;
}

/** "14:05:09" for today, the date too for an earlier day (someone inside since yesterday stands out). */
function sinceText(iso: string, tz: string | undefined, now: number): string {
  const day = (ms: number) => new Date(ms).toLocaleDateString('en-CA', tz ? { timeZone: tz } : {});
  return day(Date.parse(iso)) === day(now) ? fmtTime(iso, tz) : fmtDateTime(iso, tz);
}

export function MusterPage() {
  const { t } = useTranslation('muster');
  const route = useRoute();
  const siteId = route.query.get('site') ?? '';
  const { lookups } = useLookups(['sites']);
  const { ticked, toggle, clear } = useRollCall();
  const [csvError, setCsvError] = useState<unknown>(null);

  const query = useQuery({
    queryKey: [PATHS.muster, siteId],
    queryFn: () => api.get<Muster>(PATHS.muster, { siteId }),
    refetchInterval: POLL_MS,
    refetchIntervalInBackground: true,
  });
  const { refetch } = query;

  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);
  const onEvent = useCallback(
    (e: LiveEvent) => {
      if (!changesMuster(e)) return;
      clearTimeout(timer.current);
      timer.current = setTimeout(() => void refetch(), DEBOUNCE_MS);
    },
    [refetch],
  );
  const link = useLiveFeed(onEvent);
  // Whatever happened while the feed was down is read again as soon as it is back (not on the first connect: the page just read it).
  const dropped = useRef(false);
  useEffect(() => {
    if (link.state === 'offline') dropped.current = true;
    if (link.state === 'online' && dropped.current) {
      dropped.current = false;
      void refetch();
    }
  }, [link.state, refetch]);

  const data = query.data;
  const bySite = useMemo(() => {
    const m = new Map<string, MusterItem[]>();
    for (const it of data?.items ?? []) m.set(it.siteId, [...(m.get(it.siteId) ?? []), it]);
    return m;
  }, [data]);

  const siteOptions = useMemo(() => {
    const known = optionsOf(lookups.sites?.values());
    if (known.length > 0) return known;
    // Without sites:read the report's own sites are the choice.
    return (data?.sites ?? []).map((s) => ({ value: s.siteId, label: s.siteName }));
  }, [lookups.sites, data]);

  const downloadCsv = async () => {
    setCsvError(null);
    try {
      // The file needs the session's token, so it is fetched and handed over rather than linked.
      const text = await request<string>('GET', withQuery(`${PATHS.muster}.csv`, { siteId }), undefined, { raw: true });
      const stamp = new Date().toISOString().slice(0, 19).replaceAll(':', '');
      download(`muster-${stamp}.csv`, text);
    } catch (e) {
      setCsvError(e);
    }
  };

  const generatedAt = data?.generatedAt;
  // One site on screen: its clock, as in its lists; several: the device's own.
  const onlySite = data?.sites.length === 1 ? data.sites[0] : undefined;
  const statusTz = onlySite ? lookups.sites?.get(onlySite.siteId)?.timezone : undefined;
  const now = generatedAt ? Date.parse(generatedAt) : Date.now();

  return (
    <div className="muster">
      <PageHead title={t('title')}>
        <SelectField
          label={t('site')}
          hideLabel
          all={t('allSites')}
          options={siteOptions}
          value={siteId}
          onChange={(id) => navigate(id ? `/muster?site=${id}` : '/muster')}
        />
        <button type="button" onClick={() => window.print()}>
          {t('print')}
        </button>
        <button type="button" onClick={() => void downloadCsv()}>
          {t('csv')}
        </button>
      </PageHead>
      <div className="muster-status no-print">
        <span role="status">{generatedAt ? t('updated', { time: fmtTime(generatedAt, statusTz) }) : t('loading')}</span>
        <span className={`dot ${link.state === 'online' ? 'on' : 'off'}`} aria-hidden="true" />
        <span>{link.state === 'online' ? t('live') : t('polling')}</span>
        {ticked.size > 0 ? (
          <button type="button" className="link" onClick={clear}>
            {t('clearTicks')}
          </button>
        ) : null}
      </div>
      <ErrorBox error={query.error ?? csvError} />
      {!data ? (
        query.isPending ? (
          <Loading />
        ) : null
      ) : data.sites.length === 0 ? (
        <Empty>{t('noSites')}</Empty>
      ) : (
        data.sites.map((s) => (
          <SiteMuster
            key={s.siteId}
            site={s}
            items={bySite.get(s.siteId) ?? []}
            tz={lookups.sites?.get(s.siteId)?.timezone}
            generatedAt={generatedAt ?? ''}
            now={now}
            ticked={ticked}
            toggle={toggle}
          />
        ))
      )}
    </div>
  );
}

function SiteMuster({
  site,
  items,
  tz,
  generatedAt,
  now,
  ticked,
  toggle,
}: {
  site: MusterSite;
  items: MusterItem[];
  tz: string | undefined;
  generatedAt: string;
  now: number;
  ticked: Set<string>;
  toggle: (key: string, on: boolean) => void;
}) {
  const { t } = useTranslation('muster');
  const headId = useId();
  const accounted = items.filter((it) => ticked.has(tickKey(it))).reduce((n, it) => n + it.people, 0);
  const zones = site.zones.map((z) => ({
    key: z.zoneId ?? 'unknown',
    name: z.zoneName ?? t('unknownZone'),
    count: z.count,
    items: items.filter((it) => it.zoneId === z.zoneId),
  }));
  const printedAt = fmtDateTime(generatedAt, tz);

  return (
    <section className="muster-site" aria-labelledby={headId}>
      <header className="muster-site-head">
        <h2 id={headId}>{site.siteName}</h2>
        <div className="muster-total">
          <span className="muster-total-n" data-testid="muster-total">
            {site.total}
          </span>{' '}
          {t('inside', { count: site.total })}
        </div>
        {site.mode !== 'normal' ? <Badge tone="deny">{t(`mode.${site.mode}`)}</Badge> : null}
        <div className="muster-accounted">{t('accounted', { ticked: accounted, total: site.total })}</div>
      </header>
      {site.mode !== 'normal' ? (
        <div className="muster-banner" role="alert">
          {t(`banner.${site.mode}`)}
        </div>
      ) : null}
      {zones.map((z) => (
        <ZoneMuster
          key={z.key}
          site={site.siteName}
          name={z.name}
          count={z.count}
          items={z.items}
          printedAt={printedAt}
          tz={tz}
          now={now}
          ticked={ticked}
          toggle={toggle}
        />
      ))}
    </section>
  );
}

function ZoneMuster({
  site,
  name,
  count,
  items,
  printedAt,
  tz,
  now,
  ticked,
  toggle,
}: {
  site: string;
  name: string;
  count: number;
  items: MusterItem[];
  printedAt: string;
  tz: string | undefined;
  now: number;
  ticked: Set<string>;
  toggle: (key: string, on: boolean) => void;
}) {
  const { t } = useTranslation('muster');
  const headId = useId();
  const sorted = [...items].sort((a, b) => (a.visitorName ?? '').localeCompare(b.visitorName ?? ''));
  return (
    <section className="muster-zone" aria-labelledby={headId}>
      <h3 id={headId}>
        <span>{name}</span>{' '}
        <span className="muster-zone-count" data-testid="zone-count">
          {count}
        </span>
        <span className="sr-only"> {t('people', { count })}</span>
      </h3>
      {/* On paper each zone's list stands on its own: whose it is, and as of when. */}
      <p className="print-only muster-print-head">{t('printHead', { site, zone: name, time: printedAt })}</p>
      {sorted.length === 0 ? (
        <p className="muted">{t('nobody')}</p>
      ) : (
        <ul className="muster-list">
          {sorted.map((it) => {
            const key = tickKey(it);
            const on = ticked.has(key);
            return (
              <li key={key} className={`muster-person${on ? ' ticked' : ''}`}>
                <label className="muster-name">
                  <input type="checkbox" checked={on} onChange={(e) => toggle(key, e.target.checked)} />
                  <span>{it.visitorName ?? t('hiddenName')}</span>
                  {it.passType === 'group' ? <Badge tone="warn">{t('group', { count: it.people })}</Badge> : null}
                </label>
                <dl className="muster-facts">
                  <div>
                    <dt>{t('col.company')}</dt>
                    <dd>{it.company ?? '—'}</dd>
                  </div>
                  <div>
                    <dt>{t('col.host')}</dt>
                    <dd>{it.hostName ?? '—'}</dd>
                  </div>
                  <div>
                    <dt>{t('col.pass')}</dt>
                    <dd>{t(`type.${it.passType}`)}</dd>
                  </div>
                  <div>
                    <dt>{t('col.since')}</dt>
                    <dd>{sinceText(it.since, tz, now)}</dd>
                  </div>
                  <div>
                    <dt>{t('col.gate')}</dt>
                    <dd>{it.gateName ?? '—'}</dd>
                  </div>
                </dl>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
