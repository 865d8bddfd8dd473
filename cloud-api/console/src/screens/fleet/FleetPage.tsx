/**
 * Fleet health (issue 16): every controller of the organisation in one table —
 * link and last contact, version, its cache seq beside its site's (lag),
 * outbox, hardware, clock skew, update state and open alarms — each with a
 * badge when it needs a look. Statuses arrive every 30 s, not as live events,
 * so the page polls; a controller going on or offline, an alarm or an update
 * step refreshes it at once through the live feed.
 */
import type { TFunction } from 'i18next';
import { useCallback, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ListFoot, ListTable } from '../../components/ListTable.tsx';
import { optionsOf, SelectField } from '../../components/SelectField.tsx';
import { Badge, ErrorBox, PageHead } from '../../components/ui.tsx';
import { ago, fmtDateTime } from '../../lib/format.ts';
import { type LiveEvent, useLiveFeed } from '../../lib/live.ts';
import { useLookups } from '../../lib/lookups.ts';
import { invalidate, usePaged } from '../../lib/query.ts';
import { href } from '../../lib/router.ts';
import type { FleetController } from '../../lib/types.ts';

export const FLEET_PATH = '/api/admin/fleet';
const POLL_MS = 15_000;
const PAGE = 100;
/** SYNC-5: past one TOTP step the controller leans on its estimate of the cloud's clock (as the gates screen flags it). */
const SKEW_WARN_MS = 30_000;
/** Behind by changes this old: a revocation may not have reached the gate (the cloud's SYNC_LAG_ALERT_S default). */
const LAG_WARN_S = 30;
const SORTS = ['name', 'lastSeen', 'outbox', 'version'] as const;

type Tone = 'ok' | 'deny' | 'warn' | 'neutral';
const UPDATE_TONE: Record<string, Tone> = { done: 'ok', failed: 'deny', rolled_back: 'deny', cancelled: 'neutral', skipped: 'neutral' };

export function FleetPage() {
  const { t } = useTranslation(['fleet', 'common']);
  const { lookups } = useLookups(['sites']);
  const [filters, setFilters] = useState({ siteId: '', online: '', sort: 'name' });
  const list = usePaged<FleetController>(FLEET_PATH, Object.fromEntries(Object.entries(filters).filter(([, v]) => v !== '')), PAGE, {
    refetchIntervalMs: POLL_MS,
  });
  const set = (k: keyof typeof filters) => (value: string) => setFilters((f) => ({ ...f, [k]: value }));
  useLiveFeed(
    useCallback((e: LiveEvent) => {
      if (e.type === 'gate.status_changed' || e.type.startsWith('alarm.') || e.type.startsWith('update.')) void invalidate(FLEET_PATH);
    }, []),
  );
  const items = list.items;
  const offline = items.filter((g) => g.deviceId && !g.online && !g.disabled).length;
  const attention = items.filter(needsLook).length;

  return (
    <>
      <PageHead title={t('title')}>
        <button type="button" onClick={list.refetch} disabled={list.loading}>
          {t('refresh')}
        </button>
      </PageHead>
      <p className="muted" data-testid="fleet-summary">
        {t('summary', { count: items.length, offline, attention })}
      </p>
      <div className="toolbar">
        <SelectField
          label={t('filter.site')}
          all={t('filter.allSites')}
          options={optionsOf(lookups.sites?.values())}
          value={filters.siteId}
          onChange={set('siteId')}
        />
        <SelectField
          label={t('filter.link')}
          all={t('common:all')}
          options={[
            { value: 'true', label: t('common:gate.online') },
            { value: 'false', label: t('common:gate.offline') },
          ]}
          value={filters.online}
          onChange={set('online')}
        />
        <SelectField
          label={t('filter.sort')}
          options={SORTS.map((s) => ({ value: s, label: t(`sort.${s}`) }))}
          value={filters.sort}
          onChange={set('sort')}
        />
      </div>
      <ErrorBox error={list.error} />
      <ListTable
        testId="fleet"
        items={items}
        loading={list.loading}
        empty={t('empty')}
        columns={[
          t('col.controller'),
          t('col.link'),
          t('col.version'),
          t('col.sync'),
          t('col.outbox'),
          t('col.hardware'),
          t('col.clock'),
          t('col.update'),
          t('col.alarms'),
        ]}
        row={(g) => (
          <tr key={g.id} data-gate-id={g.id} className={needsLook(g) ? 'attention' : undefined}>
            <td>
              <strong>{g.name}</strong>
              <div className="muted">{g.siteName}</div>
              {g.deviceId ? <div className="muted mono">{g.deviceId}</div> : null}
            </td>
            <td data-col="link">
              <span className="actions">
                {!g.deviceId ? (
                  <Badge tone="neutral">{t('common:gate.notEnrolled')}</Badge>
                ) : g.disabled ? (
                  <Badge tone="neutral">{t('disabled')}</Badge>
                ) : g.online ? (
                  <Badge tone="ok">{t('common:gate.online')}</Badge>
                ) : (
                  <Badge tone="deny">{t('common:gate.offline')}</Badge>
                )}
              </span>
              <div className="muted" title={fmtDateTime(g.lastSeenAt)}>
                {ago(g.lastSeenAt)}
              </div>
            </td>
            <td data-col="version">
              {g.version ?? '—'}
              {g.releaseSerial !== null ? <div className="muted">{t('serial', { serial: g.releaseSerial })}</div> : null}
            </td>
            <td data-col="sync" className="num">
              <SyncCell g={g} t={t} />
            </td>
            <td data-col="outbox" className="num">
              {g.outboxDepth}
              {g.outboxGrowing ? (
                <div>
                  <Badge tone="warn">{t('outboxGrowing')}</Badge>
                </div>
              ) : null}
            </td>
            <td data-col="hardware">
              <HardwareCell g={g} t={t} />
            </td>
            <td data-col="clock" className="num">
              {g.clockSkewMs === null ? (
                '—'
              ) : Math.abs(g.clockSkewMs) > SKEW_WARN_MS ? (
                <Badge tone="warn">{t('skew', { seconds: (g.clockSkewMs / 1000).toFixed(1) })}</Badge>
              ) : (
                t('skew', { seconds: (g.clockSkewMs / 1000).toFixed(1) })
              )}
            </td>
            <td data-col="update">
              {g.update ? (
                <>
                  <Badge tone={UPDATE_TONE[g.update.state] ?? 'warn'}>
                    {t(`updateState.${g.update.state}` as 'updateState.pending', { defaultValue: g.update.state })}
                  </Badge>
                  <div className="muted">
                    <a href={href(`/updates/${g.update.jobId}`)}>{g.update.version}</a>
                  </div>
                  {g.update.detail ? <div className="muted">{g.update.detail}</div> : null}
                </>
              ) : (
                '—'
              )}
            </td>
            <td data-col="alarms" className="num">
              {g.openAlarms > 0 ? (
                <a href={href('/alarms')}>
                  <Badge tone="deny">{g.openAlarms}</Badge>
                </a>
              ) : (
                0
              )}
            </td>
          </tr>
        )}
      />
      <ListFoot count={items.length} list={list} />
    </>
  );
}

/** Whatever a technician should look at: a link down, a growing outbox, a sync behind, hardware, the clock, alarms, a failed update. */
function needsLook(g: FleetController): boolean {
  if (!g.deviceId || g.disabled) return false;
  return (
    !g.online ||
    g.outboxGrowing ||
    (g.lagSeconds ?? 0) >= LAG_WARN_S ||
    g.hardwareHealthy === false ||
    Math.abs(g.clockSkewMs ?? 0) > SKEW_WARN_MS ||
    g.openAlarms > 0 ||
    g.update?.state === 'failed' ||
    g.update?.state === 'rolled_back'
  );
}

function SyncCell({ g, t }: { g: FleetController; t: TFunction<['fleet', 'common']> }) {
  const seqs = `${g.cacheSeq} / ${g.siteSeq}`;
  if (g.lagSeconds === null) return <span title={t('sync.noSnapshot')}>{seqs}</span>;
  if (g.seqLag === 0 && g.lagSeconds === 0) return <span title={t('sync.current')}>{seqs}</span>;
  const behind = t('sync.behind', { count: g.seqLag, seconds: Math.round(g.lagSeconds) });
  return (
    <>
      {seqs}
      <div>{g.lagSeconds >= LAG_WARN_S ? <Badge tone="warn">{behind}</Badge> : <span className="muted">{behind}</span>}</div>
    </>
  );
}

function HardwareCell({ g, t }: { g: FleetController; t: TFunction<['fleet', 'common']> }) {
  if (g.hardwareHealthy === null) return '—';
  if (g.hardwareHealthy) return <Badge tone="ok">{t('hardwareOk', { count: g.hardware.length })}</Badge>;
  return (
    <>
      {g.hardware
        .filter((h) => !h.healthy)
        .map((h) => (
          <div key={h.name}>
            <Badge tone="deny">{h.name}</Badge> {h.detail ? <span className="muted">{h.detail}</span> : null}
          </div>
        ))}
    </>
  );
}
