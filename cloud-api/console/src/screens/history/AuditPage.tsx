import { useId, useState } from 'react';
import { Empty, ErrorBox, Loading, PageHead } from '../../components/ui.tsx';
import { fmtDateTime } from '../../lib/format.ts';
import { useLookups } from '../../lib/lookups.ts';
import { PATHS, usePaged } from '../../lib/query.ts';
import type { AuditEntry } from '../../lib/types.ts';
import { formatDetails } from './formatDetails.ts';

export function AuditPage() {
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
  const actor = (id: string | null) => {
    if (!id) return 'system';
    const u = lookups.users?.get(id);
    return u ? u.email : `…${id.slice(-6)}`;
  };
  return (
    <>
      <PageHead title="Audit log" />
      <div className="toolbar">
        <div className="field">
          <label htmlFor={ids.type}>Object</label>
          <select id={ids.type} value={entityType} onChange={(e) => setEntityType(e.target.value)}>
            <option value="">All</option>
            {['site', 'zone', 'gate', 'access_rule', 'user', 'visitor', 'appointment', 'pass'].map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={ids.actor}>Who</label>
          <select id={ids.actor} value={actorId} onChange={(e) => setActorId(e.target.value)}>
            <option value="">Anyone</option>
            {[...(lookups.users?.values() ?? [])].map((u) => (
              <option key={u.id} value={u.id}>
                {u.email}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={ids.search}>Search</label>
          <input
            id={ids.search}
            type="search"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
            placeholder="Action, id, details"
          />
        </div>
      </div>
      <ErrorBox error={list.error} />
      {list.loading && list.items.length === 0 ? (
        <Loading />
      ) : shown.length === 0 ? (
        <div className="table-wrap">
          <Empty>Nothing recorded yet.</Empty>
        </div>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Who</th>
                <th scope="col">Action</th>
                <th scope="col">Object</th>
                <th scope="col">From</th>
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((a) => (
                <tr key={a.id}>
                  <td className="nowrap">{fmtDateTime(a.createdAt)}</td>
                  <td>{actor(a.actorId)}</td>
                  <td className="mono">{a.action}</td>
                  <td>
                    {a.entityType} <span className="mono muted">{a.entityId ? `…${a.entityId.slice(-8)}` : ''}</span>
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
        <span>{shown.length} shown</span>
        {list.hasMore ? (
          <button type="button" onClick={list.loadMore} disabled={list.loading}>
            {list.loading ? 'Loading…' : 'Load more'}
          </button>
        ) : null}
      </div>
    </>
  );
}
