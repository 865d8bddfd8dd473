import { useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Empty, ErrorBox, Loading, PageHead } from '../../components/ui.tsx';
import { fmtDateTime } from '../../lib/format.ts';
import { useLookups } from '../../lib/lookups.ts';
import { PATHS, usePaged } from '../../lib/query.ts';
import type { AuditEntry } from '../../lib/types.ts';
import { formatDetails } from './formatDetails.ts';

const OBJECTS = ['site', 'zone', 'gate', 'access_rule', 'user', 'visitor', 'appointment', 'pass'] as const;
const isObject = (v: string): v is (typeof OBJECTS)[number] => (OBJECTS as readonly string[]).includes(v);

export function AuditPage() {
  const { t } = useTranslation(['history', 'common']);
  const { lookups } = useLookups(['users']);
  const [entityType, setEntityType] = useState('');
  const [actorId, setActorId] = useState('');
  const [search, setSearch] = useState('');
  const ids = { type: useId(), actor: useId(), search: useId() };
  const list = usePaged<AuditEntry>(PATHS.audit, { entityType, actorId }, 100);
  const q = search.trim().toLowerCase();
  const shown = q
    ? list.items.filter((a) => `${a.action} ${a.entityId ?? ''} ${JSON.stringify(a.data ?? {})}`.toLowerCase().includes(q))
    : list.items;
  // Actions stay as recorded (pass.revoke: what one searches for); the kinds of object are named.
  const objectName = (type: string) => (isObject(type) ? t(`audit.objects.${type}`) : type);
  const actor = (a: AuditEntry) => {
    if (a.actor.type === 'application') return t('audit.application', { name: a.actor.name ?? `…${a.actorAppId?.slice(-6)}` });
    if (!a.actorId) return t('audit.system');
    const u = lookups.users?.get(a.actorId);
    return u ? u.email : `…${a.actorId.slice(-6)}`;
  };
  return (
    <>
      <PageHead title={t('audit.title')} />
      <div className="toolbar">
        <div className="field">
          <label htmlFor={ids.type}>{t('audit.object')}</label>
          <select id={ids.type} value={entityType} onChange={(e) => setEntityType(e.target.value)}>
            <option value="">{t('common:all')}</option>
            {OBJECTS.map((o) => (
              <option key={o} value={o}>
                {t(`audit.objects.${o}`)}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={ids.actor}>{t('audit.who')}</label>
          <select id={ids.actor} value={actorId} onChange={(e) => setActorId(e.target.value)}>
            <option value="">{t('audit.anyone')}</option>
            {[...(lookups.users?.values() ?? [])].map((u) => (
              <option key={u.id} value={u.id}>
                {u.email}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={ids.search}>{t('common:search')}</label>
          <input
            id={ids.search}
            type="search"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
            placeholder={t('audit.searchPlaceholder')}
          />
        </div>
      </div>
      <ErrorBox error={list.error} />
      {list.loading && list.items.length === 0 ? (
        <Loading />
      ) : shown.length === 0 ? (
        <div className="table-wrap">
          <Empty>{t('audit.empty')}</Empty>
        </div>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">{t('audit.col.when')}</th>
                <th scope="col">{t('audit.col.who')}</th>
                <th scope="col">{t('audit.col.action')}</th>
                <th scope="col">{t('audit.col.object')}</th>
                <th scope="col">{t('audit.col.from')}</th>
                <th scope="col">{t('audit.col.details')}</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((a) => (
                <tr key={a.id}>
                  <td className="nowrap">{fmtDateTime(a.createdAt)}</td>
                  <td>{actor(a)}</td>
                  <td className="mono">{a.action}</td>
                  <td>
                    {objectName(a.entityType)} <span className="mono muted">{a.entityId ? `…${a.entityId.slice(-8)}` : ''}</span>
                  </td>
                  <td className="mono">{a.ip ?? '—'}</td>
                  <td className="details">{formatDetails(a.data)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <div className="list-foot">
        <span>{t('common:shown', { count: shown.length })}</span>
        {list.hasMore ? (
          <button type="button" onClick={list.loadMore} disabled={list.loading}>
            {list.loading ? t('common:loading') : t('common:loadMore')}
          </button>
        ) : null}
      </div>
    </>
  );
}
