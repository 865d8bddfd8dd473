/**
 * The developer console (/devconsole, permission devconsole:manage): the
 * organisation's API applications; an application's keys, webhooks, usage,
 * sandbox notes and links into the API reference (AppPage.tsx); a webhook's
 * delivery log (WebhookPage.tsx).
 *
 * Paths: /devconsole, /devconsole/apps/:id[/:tab], /devconsole/apps/:id/webhooks/:webhookId.
 */
import { useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { type FieldDef, Form, orNull, str } from '../../components/form.tsx';
import { ListTable } from '../../components/ListTable.tsx';
import { Badge, Dialog, ErrorBox, PageHead } from '../../components/ui.tsx';
import { api } from '../../lib/api.ts';
import { fmtDateTime } from '../../lib/format.ts';
import { invalidate } from '../../lib/query.ts';
import { href, navigate } from '../../lib/router.ts';
import { AppPage } from './AppPage.tsx';
import { type App, type AppBody, DEV } from './types.ts';
import { WebhookPage } from './WebhookPage.tsx';
import './devconsole.css';
import '../messages/messages.css';

export function DevConsolePage({ parts }: { parts: string[] }) {
  const [kind, id, tab, sub] = parts;
  if (kind === 'apps' && id) {
    if (tab === 'webhooks' && sub) return <WebhookPage key={sub} appId={id} id={sub} />;
    return <AppPage key={id} id={id} tab={tab} />;
  }
  return <AppList />;
}

function AppList() {
  const { t } = useTranslation(['devconsole', 'common']);
  const [creating, setCreating] = useState(false);
  const apps = useQuery({ queryKey: [DEV.apps, 'list'], queryFn: () => api.get<{ items: App[] }>(DEV.apps, { limit: 200 }) });
  const create = useMutation({
    mutationFn: (body: AppBody) => api.post<App>(DEV.apps, body),
    onSuccess: (app) => {
      void invalidate(DEV.apps);
      setCreating(false);
      navigate(`/devconsole/apps/${app.id}`);
    },
  });
  const fields: FieldDef[] = [
    { name: 'name', label: t('apps.form.name'), kind: 'text', required: true },
    { name: 'description', label: t('apps.form.description'), kind: 'text', wide: true },
    { name: 'sandbox', label: t('apps.form.sandbox'), kind: 'checkbox', hint: t('apps.form.sandboxHint'), wide: true },
  ];
  return (
    <>
      <PageHead title={t('title')}>
        <button type="button" className="primary" onClick={() => setCreating(true)}>
          {t('apps.new')}
        </button>
      </PageHead>
      <p className="muted">{t('intro')}</p>
      <ErrorBox error={apps.error} />
      <ListTable
        items={apps.data?.items ?? []}
        loading={apps.isLoading}
        empty={t('apps.empty')}
        columns={[t('apps.col.name'), t('apps.col.description'), t('apps.col.kind'), t('apps.col.created')]}
        row={(a) => (
          <tr key={a.id} data-app={a.id}>
            <td>
              <a href={href(`/devconsole/apps/${a.id}`)}>{a.name}</a>
            </td>
            <td>{a.description ?? '—'}</td>
            <td>{a.sandbox ? <Badge tone="warn">{t('apps.sandbox')}</Badge> : <Badge tone="ok">{t('apps.live')}</Badge>}</td>
            <td className="nowrap">{fmtDateTime(a.createdAt)}</td>
          </tr>
        )}
      />
      <Dialog title={t('apps.new')} open={creating} onClose={() => setCreating(false)}>
        <Form
          fields={fields}
          initial={{ name: '', description: '', sandbox: false }}
          mode="create"
          submitLabel={t('apps.form.create')}
          onCancel={() => setCreating(false)}
          onSubmit={async (v) => {
            const description = orNull(v.description);
            await create.mutateAsync({ name: str(v.name), ...(description ? { description } : {}), sandbox: v.sandbox === true });
          }}
        />
      </Dialog>
    </>
  );
}
