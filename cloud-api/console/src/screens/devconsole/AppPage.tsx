/** One application: its keys, webhooks, usage, the sandbox notes and the API reference, as tabs. */
import { useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Form, orNull, str } from '../../components/form.tsx';
import { Badge, Dialog, ErrorBox, Loading, PageHead } from '../../components/ui.tsx';
import { api } from '../../lib/api.ts';
import { invalidate } from '../../lib/query.ts';
import { href, navigate } from '../../lib/router.ts';
import { DocsPanel, SandboxPanel } from './GuidePanels.tsx';
import { KeysPanel } from './KeysPanel.tsx';
import { Confirm } from './shared.tsx';
import { type App, type AppPatch, DEV } from './types.ts';
import { UsagePanel } from './UsagePanel.tsx';
import { WebhooksPanel } from './WebhooksPanel.tsx';

type Tab = 'keys' | 'webhooks' | 'usage' | 'sandbox' | 'docs';
const TABS: readonly Tab[] = ['keys', 'webhooks', 'usage', 'sandbox', 'docs'];
const isTab = (s: string | undefined): s is Tab => (TABS as readonly (string | undefined)[]).includes(s);

export function AppPage({ id, tab }: { id: string; tab: string | undefined }) {
  const { t } = useTranslation(['devconsole', 'common']);
  const [deleting, setDeleting] = useState(false);
  const app = useQuery({ queryKey: [DEV.apps, 'one', id], queryFn: () => api.get<App>(DEV.app(id)) });
  const remove = useMutation({
    mutationFn: () => api.del(DEV.app(id)),
    onSuccess: () => {
      setDeleting(false);
      void invalidate(DEV.apps);
      navigate('/devconsole');
    },
  });
  const [editing, setEditing] = useState(false);
  const save = useMutation({
    mutationFn: (body: AppPatch) => api.patch<App>(DEV.app(id), body),
    onSuccess: () => {
      setEditing(false);
      void invalidate(DEV.apps);
    },
  });
  const a = app.data;
  const current: Tab = isTab(tab) ? tab : 'keys';
  return (
    <>
      <p>
        <a href={href('/devconsole')}>← {t('back')}</a>
      </p>
      <ErrorBox error={app.error} />
      {!a ? (
        app.isLoading ? (
          <Loading />
        ) : null
      ) : (
        <>
          <PageHead title={a.name}>
            {a.sandbox ? <Badge tone="warn">{t('apps.sandbox')}</Badge> : <Badge tone="ok">{t('apps.live')}</Badge>}
            <button type="button" onClick={() => setEditing(true)}>
              {t('apps.edit')}
            </button>
            <button type="button" className="danger" onClick={() => setDeleting(true)}>
              {t('apps.delete')}
            </button>
          </PageHead>
          <Dialog title={t('apps.editTitle')} open={editing} onClose={() => setEditing(false)}>
            {editing ? (
              <Form
                fields={[
                  { name: 'name', label: t('apps.form.name'), kind: 'text', required: true },
                  { name: 'description', label: t('apps.form.description'), kind: 'text', wide: true },
                ]}
                initial={{ name: a.name, description: a.description ?? '' }}
                mode="edit"
                submitLabel={t('apps.save')}
                onCancel={() => setEditing(false)}
                onSubmit={async (v) => {
                  await save.mutateAsync({ name: str(v.name), description: orNull(v.description) });
                }}
              />
            ) : null}
          </Dialog>
          {a.description ? <p className="muted">{a.description}</p> : null}
          <nav className="tabs" aria-label={a.name}>
            {TABS.map((x) => (
              <a
                key={x}
                href={href(`/devconsole/apps/${id}/${x}`)}
                aria-current={current === x ? 'page' : undefined}
                className={current === x ? 'tab active' : 'tab'}
              >
                {t(`tabs.${x}`)}
              </a>
            ))}
          </nav>
          {current === 'keys' ? <KeysPanel app={a} /> : null}
          {current === 'webhooks' ? <WebhooksPanel app={a} /> : null}
          {current === 'usage' ? <UsagePanel app={a} /> : null}
          {current === 'sandbox' ? <SandboxPanel app={a} /> : null}
          {current === 'docs' ? <DocsPanel /> : null}
          <Confirm
            title={t('apps.delete')}
            action={t('apps.delete')}
            open={deleting}
            busy={remove.isPending}
            onConfirm={() => remove.mutate()}
            onClose={() => setDeleting(false)}
          >
            <ErrorBox error={remove.error} />
            <p>{t('apps.deleteConfirm', { name: a.name })}</p>
          </Confirm>
        </>
      )}
    </>
  );
}
