/**
 * An application's webhook endpoints: create one (URL, events from the
 * server's catalogue, description; the signing secret shown once), the list
 * with status, disable/enable, a test event, a new secret, and a link to each
 * endpoint's delivery log.
 */
import { useMutation, useQuery } from '@tanstack/react-query';
import { type FormEvent, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ListTable } from '../../components/ListTable.tsx';
import { Badge, Dialog, ErrorBox, Field } from '../../components/ui.tsx';
import { api } from '../../lib/api.ts';
import { fmtDateTime } from '../../lib/format.ts';
import { invalidate, queryClient } from '../../lib/query.ts';
import { href } from '../../lib/router.ts';
import { Confirm, ShownOnce } from './shared.tsx';
import {
  type App,
  DEV,
  type EventInfo,
  type EventType,
  type TestSent,
  type Webhook,
  type WebhookCreate,
  type WebhookCreated,
  type WebhookPatch,
  type WebhookSecret,
} from './types.ts';

type EventKeys = typeof import('../../i18n/locales/en/devconsole.json')['event'];

/** An event's description in the interface language; the server's own (English) for one the console does not know yet. */
export function useEventLabel() {
  const { t } = useTranslation('devconsole');
  return (type: string, fallback?: string) => t(`event.${type as keyof EventKeys}`, { defaultValue: fallback ?? type });
}

/** The actions every endpoint has, here and on its delivery log: test, disable/enable, new secret. */
export function useWebhookActions(appId: string, onNotice: (s: string) => void) {
  const { t } = useTranslation('devconsole');
  const [secret, setSecret] = useState<string | null>(null);
  const [rotating, setRotating] = useState<Webhook | null>(null);
  const test = useMutation({
    mutationFn: (w: Webhook) => api.post<TestSent>(DEV.test(w.id)),
    onSuccess: (_r, w) => {
      onNotice(t('hooks.testSent'));
      void invalidate(DEV.deliveries(w.id));
    },
  });
  const toggle = useMutation({
    mutationFn: (w: Webhook) => api.patch<Webhook>(DEV.webhook(w.id), { enabled: w.status !== 'active' } satisfies WebhookPatch),
    onSuccess: (w) => {
      // The answer is the endpoint as it is now: shown at once, without waiting for the refetch.
      queryClient.setQueryData([DEV.webhook(w.id)], w);
      onNotice(w.status === 'active' ? t('hooks.enabled') : t('hooks.disabled'));
      void invalidate(DEV.webhooks(appId), DEV.webhook(w.id));
    },
  });
  const rotate = useMutation({
    mutationFn: (w: Webhook) => api.post<WebhookSecret>(DEV.rotateSecret(w.id)),
    onSuccess: (r) => {
      setRotating(null);
      setSecret(r.secret);
    },
  });
  const shown = (
    <>
      <Confirm
        title={t('hooks.rotateSecret')}
        action={t('hooks.rotateSecret')}
        open={!!rotating}
        busy={rotate.isPending}
        onConfirm={() => rotating && rotate.mutate(rotating)}
        onClose={() => setRotating(null)}
      >
        <p>{t('hooks.rotateSecretConfirm')}</p>
      </Confirm>
      <ShownOnce title={t('hooks.shownTitle')} warning={t('hooks.shownWarning')} value={secret} onClose={() => setSecret(null)} />
    </>
  );
  const buttons = (w: Webhook) => (
    <>
      <button type="button" disabled={w.status !== 'active' || test.isPending} onClick={() => test.mutate(w)}>
        {t('hooks.sendTest')}
      </button>{' '}
      <button type="button" disabled={toggle.isPending} onClick={() => toggle.mutate(w)}>
        {w.status === 'active' ? t('hooks.disable') : t('hooks.enable')}
      </button>{' '}
      <button type="button" disabled={rotate.isPending} onClick={() => setRotating(w)}>
        {t('hooks.rotateSecret')}
      </button>
    </>
  );
  return { buttons, shown, error: test.error ?? toggle.error ?? rotate.error };
}

export function WebhooksPanel({ app }: { app: App }) {
  const { t } = useTranslation(['devconsole', 'common']);
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const path = DEV.webhooks(app.id);
  const hooks = useQuery({ queryKey: [path], queryFn: () => api.get<{ items: Webhook[] }>(path) });
  const actions = useWebhookActions(app.id, setNotice);
  const label = useEventLabel();
  return (
    <>
      <p className="muted">{t('hooks.intro')}</p>
      <div className="dev-toolbar">
        <button type="button" className="primary" onClick={() => setCreating(true)}>
          {t('hooks.new')}
        </button>
      </div>
      {notice ? (
        <div className="alert" role="status">
          {notice}
        </div>
      ) : null}
      <ErrorBox error={hooks.error ?? actions.error} />
      <ListTable
        items={hooks.data?.items ?? []}
        loading={hooks.isLoading}
        empty={t('hooks.empty')}
        columns={[t('hooks.col.url'), t('hooks.col.events'), t('hooks.col.status'), t('hooks.col.created'), t('common:actions')]}
        row={(w) => (
          <tr key={w.id} data-webhook={w.id} data-status={w.status}>
            <td className="mono">
              <a href={href(`/devconsole/apps/${app.id}/webhooks/${w.id}`)}>{w.url}</a>
              {w.description ? <div className="muted">{w.description}</div> : null}
            </td>
            <td>
              {w.events.map((e) => (
                <div key={e} className="mono" title={label(e)}>
                  {e}
                </div>
              ))}
            </td>
            <td>
              <Badge tone={w.status === 'active' ? 'ok' : 'neutral'}>{t(`hooks.status.${w.status}`)}</Badge>
            </td>
            <td className="nowrap">{fmtDateTime(w.createdAt)}</td>
            <td>
              <a href={href(`/devconsole/apps/${app.id}/webhooks/${w.id}`)}>{t('hooks.open')}</a> {actions.buttons(w)}
            </td>
          </tr>
        )}
      />
      <Dialog title={t('hooks.new')} open={creating} onClose={() => setCreating(false)}>
        {creating ? (
          <NewWebhookForm
            app={app}
            onCancel={() => setCreating(false)}
            onCreated={(w) => {
              setCreating(false);
              setCreated(w.secret);
              void invalidate(path);
            }}
          />
        ) : null}
      </Dialog>
      <ShownOnce title={t('hooks.shownTitle')} warning={t('hooks.shownWarning')} value={created} onClose={() => setCreated(null)} />
      {actions.shown}
    </>
  );
}

function NewWebhookForm({ app, onCreated, onCancel }: { app: App; onCreated: (w: WebhookCreated) => void; onCancel: () => void }) {
  const { t } = useTranslation(['devconsole', 'common']);
  const base = useId();
  const label = useEventLabel();
  const catalogue = useQuery({ queryKey: [DEV.events], queryFn: () => api.get<{ items: EventInfo[] }>(DEV.events), staleTime: Infinity });
  const [url, setUrl] = useState('');
  const [events, setEvents] = useState<EventType[]>([]);
  const [description, setDescription] = useState('');
  const [problem, setProblem] = useState<{ field: 'url' | 'events'; message: string } | null>(null);
  const create = useMutation({
    mutationFn: () =>
      api.post<WebhookCreated>(DEV.webhooks(app.id), {
        url: url.trim(),
        events,
        ...(description.trim() ? { description: description.trim() } : {}),
      } satisfies WebhookCreate),
    onSuccess: onCreated,
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!url.trim()) return setProblem({ field: 'url', message: t('common:form.required') });
    if (events.length === 0) return setProblem({ field: 'events', message: t('common:form.chooseOne') });
    setProblem(null);
    create.mutate();
  };
  return (
    <form onSubmit={submit} noValidate>
      <ErrorBox error={create.error ?? catalogue.error} />
      <div className="form-grid">
        <div style={{ gridColumn: '1 / -1' }}>
          <Field
            id={`${base}-url`}
            label={`${t('hooks.url')} *`}
            hint={t('hooks.urlHint')}
            error={problem?.field === 'url' ? problem.message : null}
          >
            <input id={`${base}-url`} type="url" value={url} onChange={(e) => setUrl(e.target.value)} autoComplete="off" />
          </Field>
        </div>
        <div style={{ gridColumn: '1 / -1' }}>
          <Field id={`${base}-description`} label={t('hooks.description')}>
            <input id={`${base}-description`} value={description} onChange={(e) => setDescription(e.target.value)} autoComplete="off" />
          </Field>
        </div>
      </div>
      <fieldset className="dev-events">
        <legend>{t('hooks.events')} *</legend>
        {problem?.field === 'events' ? (
          <p className="error" role="alert">
            {problem.message}
          </p>
        ) : null}
        {(catalogue.data?.items ?? []).map((ev) => (
          <label key={ev.type}>
            <input
              type="checkbox"
              name="event"
              value={ev.type}
              checked={events.includes(ev.type)}
              onChange={(e) => setEvents((s) => (e.target.checked ? [...s, ev.type] : s.filter((x) => x !== ev.type)))}
            />
            <span className="mono">{ev.type}</span>
            <span className="muted">{label(ev.type, ev.description)}</span>
          </label>
        ))}
      </fieldset>
      <div className="actions">
        <button type="submit" className="primary" disabled={create.isPending}>
          {t('hooks.create')}
        </button>
        <button type="button" onClick={onCancel} disabled={create.isPending}>
          {t('common:cancel')}
        </button>
      </div>
    </form>
  );
}
