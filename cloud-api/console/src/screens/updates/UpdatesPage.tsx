/**
 * Controller software (issue 16): releases and what is newer than the fleet
 * runs ("Check for updates"), rollouts and a new one (scope, canary, batches,
 * health window, start time), each site's maintenance window, and one
 * rollout's page with every gate's state, its log and pause / resume /
 * cancel / postpone. The API is modules/updates; a gate's step arrives on the
 * live feed (`update.gate_changed`) and the page refreshes from it, with a
 * slow poll behind in case the feed is down.
 */
import { useMutation, useQuery } from '@tanstack/react-query';
import { type FormEvent, useCallback, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ListTable } from '../../components/ListTable.tsx';
import { Badge, Dialog, ErrorBox, Field, PageHead } from '../../components/ui.tsx';
import { api, type Page, request } from '../../lib/api.ts';
import { fmtDateTime, fromLocalInput } from '../../lib/format.ts';
import { type LiveEvent, useLiveFeed } from '../../lib/live.ts';
import { useLookups } from '../../lib/lookups.ts';
import { can } from '../../lib/permissions.ts';
import { invalidate } from '../../lib/query.ts';
import { href } from '../../lib/router.ts';
import type {
  AvailableUpdates,
  MaintenanceWindow,
  Release,
  UpdateJob,
  UpdateJobBody,
  UpdateJobDetail,
  UpdateLogLines,
} from '../../lib/types.ts';

const U = {
  releases: '/api/admin/releases',
  jobs: '/api/admin/updates/jobs',
  job: (id: string) => `/api/admin/updates/jobs/${id}`,
  logs: (id: string) => `/api/admin/updates/jobs/${id}/logs`,
  action: (id: string, a: 'pause' | 'resume' | 'cancel' | 'postpone') => `/api/admin/updates/jobs/${id}/${a}`,
  available: '/api/admin/updates/available',
  check: '/api/admin/updates/check',
  windows: '/api/admin/updates/maintenance-windows',
  window: (siteId: string) => `/api/admin/updates/maintenance-windows/${siteId}`,
} as const;
const ROOT = '/api/admin/updates';
const POLL_MS = 10_000;

type Tone = 'ok' | 'deny' | 'warn' | 'neutral';
const JOB_TONE: Record<UpdateJob['state'], Tone> = {
  scheduled: 'neutral',
  running: 'warn',
  paused: 'warn',
  halted: 'deny',
  done: 'ok',
  cancelled: 'neutral',
};
const GATE_TONE: Partial<Record<string, Tone>> = {
  done: 'ok',
  failed: 'deny',
  rolled_back: 'deny',
  skipped: 'neutral',
  cancelled: 'neutral',
  pending: 'neutral',
  postponed: 'neutral',
};

/** Any rollout step on the live feed: everything read from the updates API is stale. */
function useUpdatesLive() {
  useLiveFeed(
    useCallback((e: LiveEvent) => {
      if (e.type.startsWith('update.')) void invalidate(ROOT, U.releases);
    }, []),
  );
}

export function UpdatesPage({ id }: { id?: string | undefined }) {
  useUpdatesLive();
  return id ? <JobPage id={id} /> : <Overview />;
}

function Overview() {
  const { t } = useTranslation(['updates', 'common']);
  const manage = can('updates:manage');
  const [rollOut, setRollOut] = useState<Release | null>(null);
  const releases = useQuery({ queryKey: [U.releases, 'list'], queryFn: () => api.get<Page<Release>>(U.releases, { limit: 50 }) });
  const jobs = useQuery({
    queryKey: [ROOT, 'jobs'],
    queryFn: () => api.get<Page<UpdateJob>>(U.jobs, { limit: 50 }),
    refetchInterval: POLL_MS,
  });
  const available = useQuery({ queryKey: [ROOT, 'available'], queryFn: () => api.get<AvailableUpdates>(U.available) });
  const check = useMutation({
    mutationFn: () => api.post<AvailableUpdates>(U.check),
    onSuccess: () => void invalidate(ROOT),
  });
  const notices = check.data?.items ?? available.data?.items ?? [];
  return (
    <>
      <PageHead title={t('title')}>
        {manage ? (
          <button type="button" onClick={() => check.mutate()} disabled={check.isPending}>
            {t('check')}
          </button>
        ) : null}
      </PageHead>
      <ErrorBox error={check.error ?? releases.error ?? jobs.error} />
      <section data-testid="update-notices">
        {check.isSuccess && notices.length === 0 ? <p className="muted">{t('upToDate')}</p> : null}
        {notices.map((n) => (
          <p key={n.id}>
            <Badge tone="warn">{t('newRelease', { version: n.version, channel: n.channel })}</Badge>{' '}
            <span className="muted">{n.runningVersion ? t('runningNow', { version: n.runningVersion }) : null}</span>
          </p>
        ))}
      </section>

      <h2>{t('releases')}</h2>
      <ListTable
        testId="releases"
        items={releases.data?.items ?? []}
        loading={releases.isFetching}
        empty={t('noReleases')}
        columns={[t('col.version'), t('col.channel'), t('col.status'), t('col.published'), t('col.notes'), manage && t('common:actions')]}
        row={(r) => (
          <tr key={r.id} data-release-id={r.id}>
            <td>
              <strong>{r.version}</strong> <span className="muted">#{r.serial}</span>
            </td>
            <td>{r.channel}</td>
            <td>
              <Badge tone={r.status === 'ready' ? 'ok' : 'warn'}>{t(`releaseStatus.${r.status}`)}</Badge>
            </td>
            <td className="nowrap">{fmtDateTime(r.publishedAt)}</td>
            <td>{r.notes ?? '—'}</td>
            {manage ? (
              <td>
                {r.status === 'ready' ? (
                  <button type="button" onClick={() => setRollOut(r)}>
                    {t('rollOut')}
                  </button>
                ) : null}
              </td>
            ) : null}
          </tr>
        )}
      />

      <h2>{t('rollouts')}</h2>
      <ListTable
        testId="rollouts"
        items={jobs.data?.items ?? []}
        loading={jobs.isFetching}
        empty={t('noRollouts')}
        columns={[t('col.version'), t('col.state'), t('col.progress'), t('col.start')]}
        row={(j) => (
          <tr key={j.id} data-job-id={j.id}>
            <td>
              <a href={href(`/updates/${j.id}`)}>{j.version}</a>
              {j.allowDowngrade ? <span className="muted"> · {t('rollback')}</span> : null}
            </td>
            <td>
              <Badge tone={JOB_TONE[j.state]}>{t(`jobState.${j.state}`)}</Badge> <span className="muted">{t(`stage.${j.stage}`)}</span>
              {j.haltedReason ? <div className="muted">{j.haltedReason}</div> : null}
            </td>
            <td>{t('progress', { done: j.counts.done, failed: j.counts.failed + j.counts.rolled_back, total: j.gates })}</td>
            <td className="nowrap">{fmtDateTime(j.startAt)}</td>
          </tr>
        )}
      />

      <Windows />
      {rollOut ? <NewJobDialog release={rollOut} onClose={() => setRollOut(null)} /> : null}
    </>
  );
}

/** Each site's maintenance window (local time in its zone): when a rollout may start a gate there. */
function Windows() {
  const { t } = useTranslation(['updates', 'common']);
  const manage = can('updates:manage');
  const [editing, setEditing] = useState<MaintenanceWindow | null>(null);
  const windows = useQuery({ queryKey: [ROOT, 'windows'], queryFn: () => api.get<{ items: MaintenanceWindow[] }>(U.windows) });
  return (
    <>
      <h2>{t('windows')}</h2>
      <ListTable
        testId="maintenance-windows"
        items={windows.data?.items ?? []}
        loading={windows.isFetching}
        empty={t('noSites')}
        columns={[t('col.site'), t('col.window'), manage && t('common:actions')]}
        row={(w) => (
          <tr key={w.siteId}>
            <td>
              {w.siteName} <span className="muted">({w.timezone})</span>
            </td>
            <td>
              {w.window
                ? t('windowText', {
                    from: w.window.from,
                    to: w.window.to,
                    days: w.window.days.length ? w.window.days.join(', ') : t('everyDay'),
                  })
                : t('anyTime')}
            </td>
            {manage ? (
              <td>
                <button type="button" onClick={() => setEditing(w)}>
                  {t('setWindow')}
                </button>
              </td>
            ) : null}
          </tr>
        )}
      />
      {editing ? <WindowDialog w={editing} onClose={() => setEditing(null)} /> : null}
    </>
  );
}

function WindowDialog({ w, onClose }: { w: MaintenanceWindow; onClose: () => void }) {
  const { t } = useTranslation(['updates', 'common']);
  const ids = { from: useId(), to: useId(), days: useId() };
  const [from, setFrom] = useState(w.window?.from ?? '02:00');
  const [to, setTo] = useState(w.window?.to ?? '05:00');
  const [days, setDays] = useState((w.window?.days ?? []).join(','));
  const save = useMutation({
    mutationFn: (window: { days: number[]; from: string; to: string } | null) => request<unknown>('PUT', U.window(w.siteId), { window }),
    onSuccess: () => {
      void invalidate(ROOT);
      onClose();
    },
  });
  const parsedDays = days
    .split(/[ ,]+/)
    .filter(Boolean)
    .map(Number)
    .filter((d) => Number.isInteger(d) && d >= 1 && d <= 7);
  return (
    <Dialog
      title={t('windowFor', { site: w.siteName })}
      open
      onClose={onClose}
      footer={
        <>
          <button type="button" onClick={() => save.mutate(null)} disabled={save.isPending}>
            {t('clearWindow')}
          </button>
          <button type="button" className="primary" onClick={() => save.mutate({ days: parsedDays, from, to })} disabled={save.isPending}>
            {t('save')}
          </button>
        </>
      }
    >
      <ErrorBox error={save.error} />
      <Field id={ids.from} label={t('field.from')}>
        <input id={ids.from} type="time" value={from} onChange={(e) => setFrom(e.target.value)} />
      </Field>
      <Field id={ids.to} label={t('field.to')}>
        <input id={ids.to} type="time" value={to} onChange={(e) => setTo(e.target.value)} />
      </Field>
      <Field id={ids.days} label={t('field.days')} hint={t('field.daysHint')}>
        <input id={ids.days} value={days} onChange={(e) => setDays(e.target.value)} />
      </Field>
    </Dialog>
  );
}

function NewJobDialog({ release, onClose }: { release: Release; onClose: () => void }) {
  const { t } = useTranslation(['updates', 'common']);
  const { lookups } = useLookups(['sites', 'gates']);
  const ids = { scope: useId(), canary: useId(), canaryPct: useId(), batch: useId(), health: useId(), failures: useId(), start: useId() };
  const [scope, setScope] = useState('fleet');
  const [canaryGate, setCanaryGate] = useState('');
  const [canaryPercent, setCanaryPercent] = useState('10');
  const [batchPercent, setBatchPercent] = useState('25');
  const [healthWindowS, setHealth] = useState('120');
  const [failureThreshold, setFailures] = useState('0');
  const [startAt, setStartAt] = useState('');
  const [allowDowngrade, setDowngrade] = useState(false);
  const create = useMutation({
    mutationFn: (body: UpdateJobBody) => api.post<UpdateJob>(U.jobs, body),
    onSuccess: (job) => {
      void invalidate(ROOT);
      onClose();
      window.location.hash = `/updates/${job.id}`;
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const start = startAt ? fromLocalInput(startAt) : null;
    create.mutate({
      releaseId: release.id,
      scope: scope === 'fleet' ? 'fleet' : [scope],
      strategy: {
        ...(canaryGate ? { canaryGateIds: [canaryGate] } : { canaryPercent: Number(canaryPercent) }),
        batchPercent: Number(batchPercent),
        healthWindowS: Number(healthWindowS),
        failureThreshold: Number(failureThreshold),
      },
      ...(allowDowngrade ? { allowDowngrade: true } : {}),
      ...(start ? { startAt: start } : {}),
    });
  };
  const gates = [...(lookups.gates?.values() ?? [])].filter((g) => scope === 'fleet' || g.siteId === scope);
  return (
    <Dialog
      title={t('newRollout', { version: release.version })}
      open
      onClose={onClose}
      footer={
        <button type="submit" form="new-rollout" className="primary" disabled={create.isPending}>
          {t('start')}
        </button>
      }
    >
      <form id="new-rollout" onSubmit={submit}>
        <ErrorBox error={create.error} />
        <Field id={ids.scope} label={t('field.scope')}>
          <select id={ids.scope} value={scope} onChange={(e) => setScope(e.target.value)}>
            <option value="fleet">{t('wholeFleet')}</option>
            {[...(lookups.sites?.values() ?? [])].map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </select>
        </Field>
        <Field id={ids.canary} label={t('field.canaryGate')} hint={t('field.canaryGateHint')}>
          <select id={ids.canary} value={canaryGate} onChange={(e) => setCanaryGate(e.target.value)}>
            <option value="">{t('byPercent')}</option>
            {gates.map((g) => (
              <option key={g.id} value={g.id}>
                {g.name}
              </option>
            ))}
          </select>
        </Field>
        {canaryGate ? null : (
          <Field id={ids.canaryPct} label={t('field.canaryPercent')}>
            <input
              id={ids.canaryPct}
              type="number"
              min={0}
              max={100}
              value={canaryPercent}
              onChange={(e) => setCanaryPercent(e.target.value)}
            />
          </Field>
        )}
        <Field id={ids.batch} label={t('field.batchPercent')}>
          <input id={ids.batch} type="number" min={1} max={100} value={batchPercent} onChange={(e) => setBatchPercent(e.target.value)} />
        </Field>
        <Field id={ids.health} label={t('field.healthWindow')}>
          <input id={ids.health} type="number" min={10} max={3600} value={healthWindowS} onChange={(e) => setHealth(e.target.value)} />
        </Field>
        <Field id={ids.failures} label={t('field.failureThreshold')}>
          <input id={ids.failures} type="number" min={0} value={failureThreshold} onChange={(e) => setFailures(e.target.value)} />
        </Field>
        <Field id={ids.start} label={t('field.startAt')} hint={t('field.startAtHint')}>
          <input id={ids.start} type="datetime-local" value={startAt} onChange={(e) => setStartAt(e.target.value)} />
        </Field>
        <label className="check">
          <input type="checkbox" checked={allowDowngrade} onChange={(e) => setDowngrade(e.target.checked)} /> {t('field.allowDowngrade')}
        </label>
      </form>
    </Dialog>
  );
}

function JobPage({ id }: { id: string }) {
  const { t } = useTranslation(['updates', 'common']);
  const manage = can('updates:manage');
  const [postponing, setPostponing] = useState(false);
  const job = useQuery({
    queryKey: [ROOT, 'job', id],
    queryFn: () => api.get<UpdateJobDetail>(U.job(id)),
    refetchInterval: POLL_MS,
  });
  const logs = useQuery({
    queryKey: [ROOT, 'logs', id],
    queryFn: () => api.get<UpdateLogLines>(U.logs(id), { limit: 500 }),
    refetchInterval: POLL_MS,
  });
  const act = useMutation({
    mutationFn: (a: 'pause' | 'resume' | 'cancel') => api.post<UpdateJob>(U.action(id, a)),
    onSuccess: () => void invalidate(ROOT),
  });
  const j = job.data;
  const names = new Map(j?.gateStates.map((g) => [g.gateId, g.gateName ?? g.gateId]) ?? []);
  const open = j && (j.state === 'scheduled' || j.state === 'running' || j.state === 'paused');
  return (
    <>
      <PageHead title={j ? t('jobTitle', { version: j.version }) : t('title')}>
        {manage && j ? (
          <span className="actions">
            {j.state === 'running' || j.state === 'scheduled' ? (
              <button type="button" onClick={() => act.mutate('pause')} disabled={act.isPending}>
                {t('pause')}
              </button>
            ) : null}
            {j.state === 'paused' || j.state === 'halted' ? (
              <button type="button" onClick={() => act.mutate('resume')} disabled={act.isPending}>
                {t('resume')}
              </button>
            ) : null}
            {open ? (
              <button type="button" onClick={() => setPostponing(true)}>
                {t('postpone')}
              </button>
            ) : null}
            {open || j.state === 'halted' ? (
              <button type="button" className="danger" onClick={() => act.mutate('cancel')} disabled={act.isPending}>
                {t('cancel')}
              </button>
            ) : null}
          </span>
        ) : null}
      </PageHead>
      <p>
        <a href={href('/updates')}>{t('back')}</a>
      </p>
      <ErrorBox error={job.error ?? act.error} />
      {j ? (
        <p data-testid="job-state">
          <Badge tone={JOB_TONE[j.state]}>{t(`jobState.${j.state}`)}</Badge> <span className="muted">{t(`stage.${j.stage}`)}</span>{' '}
          {t('progress', { done: j.counts.done, failed: j.counts.failed + j.counts.rolled_back, total: j.gates })}
          {j.haltedReason ? <span className="muted"> · {j.haltedReason}</span> : null}
        </p>
      ) : null}
      <ListTable
        testId="job-gates"
        items={j?.gateStates ?? []}
        loading={job.isFetching}
        empty={t('noGates')}
        columns={[t('col.gate'), t('col.batch'), t('col.state'), t('col.from'), t('col.reported')]}
        row={(g) => (
          <tr key={g.gateId} data-gate-id={g.gateId}>
            <td>{g.gateName ?? g.gateId}</td>
            <td>{g.canary ? <Badge tone="warn">{t('canary')}</Badge> : t('batchN', { n: g.batch })}</td>
            <td data-col="state">
              <Badge tone={GATE_TONE[g.state] ?? 'warn'}>{t(`gateState.${g.state}`)}</Badge>
              {g.detail ? <div className="muted">{g.detail}</div> : null}
            </td>
            <td>{g.fromVersion ?? '—'}</td>
            <td className="nowrap">{fmtDateTime(g.reportedAt)}</td>
          </tr>
        )}
      />
      <h2>{t('log')}</h2>
      <pre className="log" data-testid="job-log">
        {(logs.data?.items ?? [])
          .map(
            (l) => `${fmtDateTime(l.at)} ${l.level.toUpperCase()} ${l.gateId ? `[${names.get(l.gateId) ?? l.gateId}] ` : ''}${l.message}`,
          )
          .join('\n') || t('noLog')}
      </pre>
      {postponing ? <PostponeDialog id={id} onClose={() => setPostponing(false)} /> : null}
    </>
  );
}

function PostponeDialog({ id, onClose }: { id: string; onClose: () => void }) {
  const { t } = useTranslation(['updates', 'common']);
  const until = useId();
  const [value, setValue] = useState('');
  const postpone = useMutation({
    mutationFn: (iso: string) => api.post<UpdateJob>(U.action(id, 'postpone'), { until: iso }),
    onSuccess: () => {
      void invalidate(ROOT);
      onClose();
    },
  });
  const iso = value ? fromLocalInput(value) : null;
  return (
    <Dialog
      title={t('postpone')}
      open
      onClose={onClose}
      footer={
        <button type="button" className="primary" disabled={!iso || postpone.isPending} onClick={() => iso && postpone.mutate(iso)}>
          {t('postpone')}
        </button>
      }
    >
      <ErrorBox error={postpone.error} />
      <Field id={until} label={t('field.until')}>
        <input id={until} type="datetime-local" value={value} onChange={(e) => setValue(e.target.value)} />
      </Field>
    </Dialog>
  );
}
