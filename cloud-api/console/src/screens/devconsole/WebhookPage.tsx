/**
 * One webhook endpoint and its delivery log: status, event, response code,
 * attempts, duration and time, filtered by status; a delivery opens with its
 * payload; failed and dead ones (and delivered ones, to replay) can be
 * redelivered. The log looks again every few seconds while pending ones remain.
 */
import { useMutation, useQuery } from '@tanstack/react-query';
import { useEffect, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ListTable } from '../../components/ListTable.tsx';
import { Badge, Dialog, ErrorBox, Loading, PageHead } from '../../components/ui.tsx';
import { api } from '../../lib/api.ts';
import { fmtDateTime } from '../../lib/format.ts';
import { invalidate, usePaged } from '../../lib/query.ts';
import { href, navigate } from '../../lib/router.ts';
import { ChoiceField } from '../messages/ChoiceField.tsx';
import { Confirm } from './shared.tsx';
import { DELIVERY_STATUSES, DEV, type Delivery, type DeliveryDetail, type DeliveryStatus, type Webhook } from './types.ts';
import { useEventLabel, useWebhookActions } from './WebhooksPanel.tsx';

const tone = (s: DeliveryStatus) => (s === 'delivered' ? 'ok' : s === 'dead' ? 'deny' : s === 'failed' ? 'warn' : 'neutral');

export function WebhookPage({ appId, id }: { appId: string; id: string }) {
  const { t } = useTranslation(['devconsole', 'common']);
  const base = useId();
  const [notice, setNotice] = useState<string | null>(null);
  const [status, setStatus] = useState<DeliveryStatus | ''>('');
  const [open, setOpen] = useState<string | null>(null);
  const hook = useQuery({ queryKey: [DEV.webhook(id)], queryFn: () => api.get<Webhook>(DEV.webhook(id)) });
  const list = usePaged<Delivery>(DEV.deliveries(id), { status: status || undefined });
  const pending = list.items.some((d) => d.status === 'pending' || d.status === 'failed');
  // New deliveries arrive and pending ones settle on their own: look again now and then while any are in flight.
  useEffect(() => {
    const timer = setInterval(() => void invalidate(DEV.deliveries(id), DEV.webhook(id)), pending ? 2_000 : 10_000);
    return () => clearInterval(timer);
  }, [id, pending]);
  const actions = useWebhookActions(appId, (s) => {
    setNotice(s);
  });
  const redeliver = useMutation({
    mutationFn: (d: Delivery) => api.post<Delivery>(DEV.redeliver(id, d.id)),
    onSuccess: () => {
      setNotice(t('deliveries.redelivered'));
      void invalidate(DEV.deliveries(id));
    },
  });
  const [deleting, setDeleting] = useState(false);
  const remove = useMutation({
    mutationFn: () => api.del(DEV.webhook(id)),
    onSuccess: () => {
      setDeleting(false);
      void invalidate(DEV.webhooks(appId));
      navigate(`/devconsole/apps/${appId}/webhooks`);
    },
  });
  const label = useEventLabel();
  const w = hook.data;
  return (
    <>
      <p>
        <a href={href(`/devconsole/apps/${appId}/webhooks`)}>← {t('tabs.webhooks')}</a>
      </p>
      <ErrorBox error={hook.error} />
      {!w ? (
        hook.isLoading ? (
          <Loading />
        ) : null
      ) : (
        <>
          <PageHead title={w.url}>
            <Badge tone={w.status === 'active' ? 'ok' : 'neutral'}>{t(`hooks.status.${w.status}`)}</Badge>
          </PageHead>
          {w.description ? <p className="muted">{w.description}</p> : null}
          <p className="mono">{w.events.join(', ')}</p>
          {w.status === 'disabled' && w.disabledAt ? (
            <div className="alert warn" role="note">
              {t('hooks.disabledAt', { time: fmtDateTime(w.disabledAt) })}
            </div>
          ) : w.failingSince ? (
            <div className="alert warn" role="note">
              {t('hooks.failingSince', { time: fmtDateTime(w.failingSince) })}
            </div>
          ) : null}
          <div className="dev-toolbar">
            {actions.buttons(w)}{' '}
            <button type="button" className="danger" onClick={() => setDeleting(true)}>
              {t('hooks.delete')}
            </button>
          </div>
          <Confirm
            title={t('hooks.delete')}
            action={t('hooks.delete')}
            open={deleting}
            busy={remove.isPending}
            onConfirm={() => remove.mutate()}
            onClose={() => setDeleting(false)}
          >
            <ErrorBox error={remove.error} />
            <p>{t('hooks.deleteConfirm')}</p>
          </Confirm>
        </>
      )}
      {notice ? (
        <div className="alert" role="status">
          {notice}
        </div>
      ) : null}
      <ErrorBox error={actions.error ?? redeliver.error} />
      <h2>{t('deliveries.title')}</h2>
      <div className="dev-filters">
        <ChoiceField
          id={`${base}-status`}
          label={t('deliveries.filterStatus')}
          all={t('deliveries.all')}
          options={DELIVERY_STATUSES}
          optionLabel={(s) => t(`deliveries.status.${s}`)}
          value={status}
          onChange={setStatus}
        />
      </div>
      <ErrorBox error={list.error} />
      <ListTable
        items={list.items}
        loading={list.loading}
        empty={t('deliveries.empty')}
        columns={[
          t('deliveries.col.time'),
          t('deliveries.col.event'),
          t('deliveries.col.status'),
          t('deliveries.col.code'),
          t('deliveries.col.attempts'),
          t('deliveries.col.duration'),
          t('deliveries.col.error'),
          t('common:actions'),
        ]}
        row={(d) => (
          <tr key={d.id} data-delivery={d.id} data-status={d.status}>
            <td className="nowrap">{fmtDateTime(d.createdAt)}</td>
            <td className="mono" title={label(d.event)}>
              {d.event}
            </td>
            <td>
              <Badge tone={tone(d.status)}>{t(`deliveries.status.${d.status}`)}</Badge>
            </td>
            <td>{d.responseCode ?? '—'}</td>
            <td>{d.attempts}</td>
            <td className="nowrap">{d.durationMs === null ? '—' : t('deliveries.ms', { ms: d.durationMs })}</td>
            <td className="dev-error">{d.error ?? '—'}</td>
            <td className="nowrap">
              <button type="button" onClick={() => setOpen(d.id)}>
                {t('deliveries.view')}
              </button>{' '}
              {d.status !== 'pending' ? (
                <button
                  type="button"
                  disabled={redeliver.isPending && redeliver.variables?.id === d.id}
                  onClick={() => {
                    setNotice(null);
                    redeliver.mutate(d);
                  }}
                >
                  {t('deliveries.redeliver')}
                </button>
              ) : null}
            </td>
          </tr>
        )}
      />
      {list.hasMore ? (
        <div className="actions">
          <button type="button" onClick={list.loadMore} disabled={list.loading}>
            {t('deliveries.more')}
          </button>
        </div>
      ) : null}
      <DeliveryDialog
        webhookId={id}
        deliveryId={open}
        onClose={() => setOpen(null)}
        onRedeliver={(d) => {
          setOpen(null);
          setNotice(null);
          redeliver.mutate(d);
        }}
      />
      {actions.shown}
    </>
  );
}

function DeliveryDialog({
  webhookId,
  deliveryId,
  onClose,
  onRedeliver,
}: {
  webhookId: string;
  deliveryId: string | null;
  onClose: () => void;
  onRedeliver: (d: Delivery) => void;
}) {
  const { t } = useTranslation(['devconsole', 'common']);
  const one = useQuery({
    queryKey: [DEV.deliveries(webhookId), 'one', deliveryId],
    queryFn: () => api.get<DeliveryDetail>(DEV.delivery(webhookId, deliveryId ?? '')),
    enabled: !!deliveryId,
  });
  const d = one.data;
  return (
    <Dialog
      title={t('deliveries.detailTitle', { id: deliveryId?.slice(-8) ?? '' })}
      open={!!deliveryId}
      onClose={onClose}
      footer={
        d && d.status !== 'pending' ? (
          <button type="button" className="primary" onClick={() => onRedeliver(d)}>
            {t('deliveries.redeliver')}
          </button>
        ) : undefined
      }
    >
      <ErrorBox error={one.error} />
      {!d ? (
        <Loading />
      ) : (
        <>
          <dl className="dev-facts">
            <dt>{t('deliveries.col.event')}</dt>
            <dd className="mono">{d.event}</dd>
            <dt>{t('deliveries.col.status')}</dt>
            <dd>
              <Badge tone={tone(d.status)}>{t(`deliveries.status.${d.status}`)}</Badge>
            </dd>
            <dt>{t('deliveries.col.code')}</dt>
            <dd>{d.responseCode ?? '—'}</dd>
            <dt>{t('deliveries.col.attempts')}</dt>
            <dd>{d.attempts}</dd>
            <dt>{t('deliveries.deliveredAt')}</dt>
            <dd>{fmtDateTime(d.deliveredAt)}</dd>
            {d.error ? (
              <>
                <dt>{t('deliveries.col.error')}</dt>
                <dd>{d.error}</dd>
              </>
            ) : null}
          </dl>
          <h3>{t('deliveries.payload')}</h3>
          <pre className="dev-code" data-payload>
            {JSON.stringify(d.payload, null, 2)}
          </pre>
        </>
      )}
    </Dialog>
  );
}
