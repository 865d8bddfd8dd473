/**
 * Background jobs of the organisation: its queues' depths and the dead jobs (failed their last
 * attempt) with their error, each with a Retry for who may (jobs:retry). A job's data is never
 * shown — only the ids it refers to (the API gives nothing else).
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Badge, Empty, ErrorBox, Loading, PageHead } from '../../components/ui.tsx';
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
      {stats.isLoading ? (
        <Loading />
      ) : queues.length === 0 ? (
        <div className="table-wrap">
          <Empty>{t('queues.empty')}</Empty>
        </div>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">{t('queues.col.queue')}</th>
                <th scope="col">{t('queues.col.waiting')}</th>
                <th scope="col">{t('queues.col.scheduled')}</th>
                <th scope="col">{t('queues.col.running')}</th>
                <th scope="col">{t('queues.col.dead')}</th>
                <th scope="col">{t('queues.col.oldest')}</th>
              </tr>
            </thead>
            <tbody>
              {queues.map((q) => (
                <tr key={q.queue} data-queue={q.queue}>
                  <td className="mono">{q.queue}</td>
                  <td>{q.depth}</td>
                  <td>{q.scheduled}</td>
                  <td>{q.active}</td>
                  <td>{q.dead > 0 ? <Badge tone="deny">{q.dead}</Badge> : 0}</td>
                  <td>{q.depth > 0 ? t('queues.seconds', { count: Math.round(q.oldestAgeS) }) : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <h2>{t('dead.title')}</h2>
      <ErrorBox error={dead.error ?? retry.error} />
      {dead.isLoading ? (
        <Loading />
      ) : items.length === 0 ? (
        <div className="table-wrap">
          <Empty>{t('dead.empty')}</Empty>
        </div>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">{t('dead.col.failedAt')}</th>
                <th scope="col">{t('dead.col.queue')}</th>
                <th scope="col">{t('dead.col.attempts')}</th>
                <th scope="col">{t('dead.col.error')}</th>
                <th scope="col">{t('dead.col.refers')}</th>
                {mayRetry ? <th scope="col">{t('common:actions')}</th> : null}
              </tr>
            </thead>
            <tbody>
              {items.map((j) => (
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
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
