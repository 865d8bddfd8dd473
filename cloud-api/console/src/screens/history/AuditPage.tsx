import { useEffect, useId, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ListFoot, ListTable } from '../../components/ListTable.tsx';
import { SelectField } from '../../components/SelectField.tsx';
import { ErrorBox, PageHead } from '../../components/ui.tsx';
import { fmtDateTime } from '../../lib/format.ts';
import { shortId } from '../../lib/lookups.ts';
import { findUsers } from '../../lib/people.ts';
import { can } from '../../lib/permissions.ts';
import { PATHS, useDebounced, usePaged } from '../../lib/query.ts';
import type { AuditEntry } from '../../lib/types.ts';
import { formatDetails } from './formatDetails.ts';

/** Rows a page of the log holds. */
const PAGE = 100;
/** Windows of a word search read on without asking (20,000 rows each on the server). */
const AUTO_WINDOWS = 25;

const OBJECTS = ['site', 'zone', 'gate', 'access_rule', 'user', 'visitor', 'appointment', 'pass'] as const;
const isObject = (v: string): v is (typeof OBJECTS)[number] => (OBJECTS as readonly string[]).includes(v);

export function AuditPage() {
  const { t } = useTranslation(['history', 'common']);
  const [entityType, setEntityType] = useState('');
  const [actorId, setActorId] = useState('');
  const [search, setSearch] = useState('');
  const searchId = useId();
  // Searched by the server over the whole log, however far back: an id (an object's history, or what a user or an
  // application did), or words of the action, the object or the details.
  const q = useDebounced(search.trim());
  const list = usePaged<AuditEntry>(PATHS.audit, { entityType, actorId, q }, PAGE);
  // The server reads a word search a window of rows at a time and answers a short page with where to read on: read
  // on by itself until a page is full or AUTO_WINDOWS more were read (then "Load more" goes further back).
  const windows = useRef({ q: '', read: 0 });
  useEffect(() => {
    if (windows.current.q !== q) windows.current = { q, read: 0 };
    if (!q || !list.hasMore || list.loading || list.items.length >= PAGE || windows.current.read >= AUTO_WINDOWS) return;
    windows.current.read++;
    list.loadMore();
  }, [q, list]);
  // Actions stay as recorded (pass.revoke: what one searches for); the kinds of object are named.
  const objectName = (type: string) => (isObject(type) ? t(`audit.objects.${type}`) : type);
  const actor = (a: AuditEntry) => {
    if (a.actor.type === 'application') return t('audit.application', { name: a.actor.name ?? `…${a.actorAppId?.slice(-6)}` });
    if (!a.actorId) return t('audit.system');
    // Named by the server (for a reader of users): a large organisation's users are more than the console loads.
    return a.actor.email ?? shortId(a.actorId);
  };
  return (
    <>
      <PageHead title={t('audit.title')} />
      <div className="toolbar">
        <SelectField
          label={t('audit.object')}
          all={t('common:all')}
          options={OBJECTS.map((o) => ({ value: o, label: t(`audit.objects.${o}`) }))}
          value={entityType}
          onChange={setEntityType}
        />
        <SelectField
          label={t('audit.who')}
          all={t('audit.anyone')}
          options={[]}
          search={can('users:read') ? findUsers : undefined}
          value={actorId}
          onChange={setActorId}
        />
        <div className="field">
          <label htmlFor={searchId}>{t('common:search')}</label>
          <input
            id={searchId}
            type="search"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
            placeholder={t('audit.searchPlaceholder')}
          />
        </div>
      </div>
      <ErrorBox error={list.error} />
      <ListTable
        items={list.items}
        loading={list.loading}
        empty={t('audit.empty')}
        columns={[
          t('audit.col.when'),
          t('audit.col.who'),
          t('audit.col.action'),
          t('audit.col.object'),
          t('audit.col.from'),
          t('audit.col.details'),
        ]}
        row={(a) => (
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
        )}
      />
      <ListFoot count={list.items.length} list={list} />
    </>
  );
}
