/**
 * An application's API keys: create one (scopes by area, a per-minute limit;
 * the key shown once), the list (prefix, scopes, limit, last use, status),
 * revoke with a confirmation, rotate with a grace period (the new key shown once).
 */
import { permissionsOf } from '@gatehouse/cloud-api/rbac';
import { useMutation, useQuery } from '@tanstack/react-query';
import { type FormEvent, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ListTable } from '../../components/ListTable.tsx';
import { Badge, Dialog, ErrorBox, Field } from '../../components/ui.tsx';
import { api } from '../../lib/api.ts';
import { ago, fmtDateTime } from '../../lib/format.ts';
import { invalidate } from '../../lib/query.ts';
import { getSession } from '../../lib/session.ts';
import { Confirm, ShownOnce } from './shared.tsx';
import {
  type ApiKey,
  type App,
  type CreatedKey,
  DEV,
  type KeyBody,
  type KeyStatus,
  type RotateBody,
  type Scope,
  scopeAreas,
} from './types.ts';

const tone = (s: KeyStatus) => (s === 'active' ? 'ok' : s === 'expiring' ? 'warn' : s === 'revoked' ? 'deny' : 'neutral');

const GRACES = [
  { seconds: 0, label: 'graceNone' },
  { seconds: 3600, label: 'graceHour' },
  { seconds: 86400, label: 'graceDay' },
  { seconds: 7 * 86400, label: 'graceWeek' },
  { seconds: 30 * 86400, label: 'graceMonth' },
] as const;

export function KeysPanel({ app }: { app: App }) {
  const { t } = useTranslation(['devconsole', 'common']);
  const [creating, setCreating] = useState(false);
  const [shown, setShown] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [revoking, setRevoking] = useState<ApiKey | null>(null);
  const [rotating, setRotating] = useState<ApiKey | null>(null);
  const [grace, setGrace] = useState(86400);
  const path = DEV.keys(app.id);
  const keys = useQuery({ queryKey: [path], queryFn: () => api.get<{ items: ApiKey[] }>(path) });
  const revoke = useMutation({
    mutationFn: (k: ApiKey) => api.del(DEV.key(app.id, k.id)),
    onSuccess: () => {
      setRevoking(null);
      setNotice(t('keys.revoked'));
      void invalidate(path);
    },
  });
  const rotate = useMutation({
    mutationFn: (k: ApiKey) => api.post<CreatedKey>(DEV.rotateKey(app.id, k.id), { graceSeconds: grace } satisfies RotateBody),
    onSuccess: (created) => {
      setRotating(null);
      setShown(created.key);
      void invalidate(path);
    },
  });
  const live = (k: ApiKey) => k.status === 'active' || k.status === 'expiring';
  return (
    <>
      <p className="muted">{t('keys.intro')}</p>
      <div className="dev-toolbar">
        <button type="button" className="primary" onClick={() => setCreating(true)}>
          {t('keys.new')}
        </button>
      </div>
      {notice ? (
        <div className="alert" role="status">
          {notice}
        </div>
      ) : null}
      <ErrorBox error={keys.error} />
      <ListTable
        items={keys.data?.items ?? []}
        loading={keys.isLoading}
        empty={t('keys.empty')}
        columns={[
          t('keys.col.prefix'),
          t('keys.col.scopes'),
          t('keys.col.limit'),
          t('keys.col.created'),
          t('keys.col.lastUsed'),
          t('keys.col.status'),
          t('common:actions'),
        ]}
        row={(k) => (
          <tr key={k.id} data-key={k.id} data-status={k.status}>
            <td className="mono nowrap">{k.prefix}…</td>
            <td className="mono" title={k.scopes.join(', ')}>
              {k.scopes.length <= 3 ? k.scopes.join(', ') : t('keys.scopeCount', { count: k.scopes.length })}
            </td>
            <td>{k.rateLimitPerMinute ?? t('keys.default')}</td>
            <td className="nowrap">{fmtDateTime(k.createdAt)}</td>
            <td className="nowrap">{ago(k.lastUsedAt)}</td>
            <td>
              <Badge tone={tone(k.status)}>{t(`keys.status.${k.status}`)}</Badge>
              {k.status === 'expiring' && k.expiresAt ? (
                <span className="muted"> {t('keys.expires', { time: fmtDateTime(k.expiresAt) })}</span>
              ) : null}
            </td>
            <td className="nowrap">
              {live(k) ? (
                <>
                  <button type="button" onClick={() => setRotating(k)}>
                    {t('keys.rotate')}
                  </button>{' '}
                  <button type="button" className="danger" onClick={() => setRevoking(k)}>
                    {t('keys.revoke')}
                  </button>
                </>
              ) : null}
            </td>
          </tr>
        )}
      />
      <Dialog title={t('keys.new')} open={creating} onClose={() => setCreating(false)}>
        {creating ? (
          <NewKeyForm
            app={app}
            onCancel={() => setCreating(false)}
            onCreated={(k) => {
              setCreating(false);
              setShown(k.key);
              void invalidate(path);
            }}
          />
        ) : null}
      </Dialog>
      <ShownOnce title={t('keys.shownTitle')} warning={t('keys.shownWarning')} value={shown} onClose={() => setShown(null)} />
      <Confirm
        title={t('keys.revokeTitle')}
        action={t('keys.revoke')}
        open={!!revoking}
        busy={revoke.isPending}
        onConfirm={() => revoking && revoke.mutate(revoking)}
        onClose={() => setRevoking(null)}
      >
        <ErrorBox error={revoke.error} />
        <p>{t('keys.revokeConfirm', { prefix: revoking?.prefix ?? '' })}</p>
      </Confirm>
      <RotateDialog
        k={rotating}
        grace={grace}
        setGrace={setGrace}
        busy={rotate.isPending}
        error={rotate.error}
        onConfirm={() => rotating && rotate.mutate(rotating)}
        onClose={() => setRotating(null)}
      />
    </>
  );
}

function RotateDialog({
  k,
  grace,
  setGrace,
  busy,
  error,
  onConfirm,
  onClose,
}: {
  k: ApiKey | null;
  grace: number;
  setGrace: (n: number) => void;
  busy: boolean;
  error: unknown;
  onConfirm: () => void;
  onClose: () => void;
}) {
  const { t } = useTranslation(['devconsole', 'common']);
  const id = useId();
  return (
    <Dialog
      title={t('keys.rotateTitle')}
      open={!!k}
      onClose={onClose}
      footer={
        <>
          <button type="button" className="primary" disabled={busy} onClick={onConfirm}>
            {t('keys.rotate')}
          </button>
          <button type="button" onClick={onClose} disabled={busy}>
            {t('common:cancel')}
          </button>
        </>
      }
    >
      <ErrorBox error={error} />
      <p>{t('keys.rotateIntro', { prefix: k?.prefix ?? '' })}</p>
      <Field id={id} label={t('keys.grace')}>
        <select id={id} value={grace} onChange={(e) => setGrace(Number(e.target.value))}>
          {GRACES.map((g) => (
            <option key={g.seconds} value={g.seconds}>
              {t(`keys.${g.label}`)}
            </option>
          ))}
        </select>
      </Field>
    </Dialog>
  );
}

function NewKeyForm({ app, onCreated, onCancel }: { app: App; onCreated: (k: CreatedKey) => void; onCancel: () => void }) {
  const { t } = useTranslation(['devconsole', 'common']);
  const base = useId();
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<Scope[]>([]);
  const [limit, setLimit] = useState('');
  const [problem, setProblem] = useState<{ field: 'scopes' | 'limit'; message: string } | null>(null);
  // A live app's key can do no more than its creator (the server says 403 scope_not_held); a sandbox one anything.
  const held = permissionsOf(getSession()?.user.roles ?? []);
  const allowed = (p: Scope) => app.sandbox || held.has(p);
  const create = useMutation({
    mutationFn: () =>
      api.post<CreatedKey>(DEV.keys(app.id), {
        scopes,
        ...(limit.trim() ? { rateLimitPerMinute: Number(limit.trim()) } : {}),
        ...(name.trim() ? { name: name.trim() } : {}),
      } satisfies KeyBody),
    onSuccess: onCreated,
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const n = limit.trim();
    if (scopes.length === 0) return setProblem({ field: 'scopes', message: t('keys.chooseScope') });
    if (n && (!/^[0-9]+$/.test(n) || Number(n) < 1 || Number(n) > 100000))
      return setProblem({ field: 'limit', message: t('keys.rateLimitRange') });
    setProblem(null);
    create.mutate();
  };
  const toggle = (p: Scope, on: boolean) => setScopes((s) => (on ? [...s, p] : s.filter((x) => x !== p)));
  return (
    <form onSubmit={submit} noValidate>
      <ErrorBox error={create.error} />
      <div className="form-grid">
        <Field id={`${base}-name`} label={t('keys.name')}>
          <input id={`${base}-name`} value={name} onChange={(e) => setName(e.target.value)} maxLength={100} autoComplete="off" />
        </Field>
        <Field
          id={`${base}-limit`}
          label={t('keys.rateLimit')}
          hint={t('keys.rateLimitHint')}
          error={problem?.field === 'limit' ? problem.message : null}
        >
          <input id={`${base}-limit`} inputMode="numeric" value={limit} onChange={(e) => setLimit(e.target.value)} autoComplete="off" />
        </Field>
      </div>
      <fieldset className="dev-scope-set">
        <legend>{t('keys.scopes')}</legend>
        <p className="muted">{t('keys.scopesHint')}</p>
        {problem?.field === 'scopes' ? (
          <p className="error" role="alert">
            {problem.message}
          </p>
        ) : null}
        <div className="dev-scopes">
          {scopeAreas().map(({ area, scopes: group }) => (
            <fieldset key={area}>
              <legend>{t(`area.${area as keyof AreaKeys}`, { defaultValue: area })}</legend>
              {group.map((p) => (
                <label key={p} aria-disabled={!allowed(p)} title={allowed(p) ? undefined : t('keys.notHeld')}>
                  <input
                    type="checkbox"
                    name="scope"
                    value={p}
                    disabled={!allowed(p)}
                    checked={scopes.includes(p)}
                    onChange={(e) => toggle(p, e.target.checked)}
                  />
                  {p}
                </label>
              ))}
            </fieldset>
          ))}
        </div>
      </fieldset>
      <div className="actions">
        <button type="submit" className="primary" disabled={create.isPending}>
          {t('keys.create')}
        </button>
        <button type="button" onClick={onCancel} disabled={create.isPending}>
          {t('common:cancel')}
        </button>
      </div>
    </form>
  );
}

type AreaKeys = typeof import('../../i18n/locales/en/devconsole.json')['area'];
