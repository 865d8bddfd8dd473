/**
 * Background jobs of the organisation: its queues' depths and the dead jobs (failed their last
 * attempt) with their error, each with a Retry for who may (jobs:retry). A job's data is never
 * shown — only the ids it refers to (the API gives nothing else).
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ListTable } from '../../components/ListTable.tsx';
import { Badge, ErrorBox, PageHead } from '../../components/ui.tsx';
import { api } from '../../lib/api.ts';
import { fmtDateTime } from '../../lib/format.ts';
import { can } from '../../lib/permissions.ts';
import type { DeadJobItem as DeadJob, JobStats, RetriedJob } from '../../lib/types.ts';

const JOBS = {
  dead: '/api/admin/jobs/dead',
  stats: '/api/admin/jobs/stats',
  retry: (id: string) => `/api/admin/jobs/dead/${id}/retry`,
} as const;

/** Queues change state on their own (a retried job runs, a new one dies): the page looks again now and then. */
const REFRESH_MS = 10_000;

export function JobsPage() {
  const { t } = useTranslation(['jobs', 'common']);
  const qc = useQueryClient();
  const [notice, setNotice] = useState<string | null>(null);
  const stats = useQuery({
    queryKey: [JOBS.stats],
    queryFn: () => api.get<JobStats>(JOBS.stats),
    refetchInterval: REFRESH_MS,
  });
  const dead = useQuery({
    queryKey: [JOBS.dead],
    queryFn: () => api.get<{ items: DeadJob[] }>(JOBS.dead, { limit: 200 }),
    refetchInterval: REFRESH_MS,
  });
  const retry = useMutation({
    mutationFn: (job: DeadJob) => api.post<RetriedJob>(JOBS.retry(job.id)),
    onSuccess: (_r, job) => {
      setNotice(t('retried', { queue: job.queue }));
      void qc.invalidateQueries({ queryKey: [JOBS.dead] });
      void qc.invalidateQueries({ queryKey: [JOBS.stats] });
    },
  });
  const mayRetry = can('jobs:retry');
  const queues = stats.data?.queues ?? [];
  const items = dead.data?.items ?? [];
  return (
    <>
      <PageHead title={t('title')}>
        <button
          type="button"
          onClick={() => {
            void stats.refetch();
            void dead.refetch();
          }}
          disabled={stats.isFetching || dead.isFetching}
        >
          {t('refresh')}
        </button>
      </PageHead>
      <p className="muted">{t('intro')}</p>
      {notice ? (
        <div className="alert" role="status">
          {notice}
        </div>
      ) : null}

      <h2>{t('queues.title')}</h2>
      <ErrorBox error={stats.error} />
      <ListTable
        items={queues}
        loading={stats.isLoading}
        empty={t('queues.empty')}
        columns={[
          t('queues.col.queue'),
          t('queues.col.waiting'),
          t('queues.col.scheduled'),
          t('queues.col.running'),
          t('queues.col.dead'),
          t('queues.col.oldest'),
        ]}
        row={(q) => (
          <tr key={q.queue} data-queue={q.queue}>
            <td className="mono">{q.queue}</td>
            <td>{q.depth}</td>
            <td>{q.scheduled}</td>
            <td>{q.active}</td>
            <td>{q.dead > 0 ? <Badge tone="deny">{q.dead}</Badge> : 0}</td>
            <td>{q.depth > 0 ? t('queues.seconds', { count: Math.round(q.oldestAgeS) }) : '—'}</td>
          </tr>
        )}
      />

      <h2>{t('dead.title')}</h2>
      <ErrorBox error={dead.error ?? retry.error} />
      <ListTable
        items={items}
        loading={dead.isLoading}
        empty={t('dead.empty')}
        columns={[
          t('dead.col.failedAt'),
          t('dead.col.queue'),
          t('dead.col.attempts'),
          t('dead.col.error'),
          t('dead.col.refers'),
          mayRetry && t('common:actions'),
        ]}
        row={(j) => (
          <tr key={j.id} data-job={j.id}>
            <td className="nowrap">{fmtDateTime(j.failedAt ?? j.createdAt)}</td>
            <td className="mono">{j.queue}</td>
            <td>{j.attempts}</td>
            <td className="details">{j.error ?? '—'}</td>
            <td className="mono muted">
              {Object.entries(j.refs)
                .map(([k, v]) => `${k} …${v.slice(-8)}`)
                .join(', ') || '—'}
            </td>
            {mayRetry ? (
              <td>
                <button
                  type="button"
                  disabled={retry.isPending && retry.variables?.id === j.id}
                  onClick={() => {
                    setNotice(null);
                    retry.mutate(j);
                  }}
                >
                  {t('dead.retry')}
                </button>
              </td>
            ) : null}
          </tr>
        )}
      />
    </>
  );
}
