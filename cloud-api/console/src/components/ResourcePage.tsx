import { useMutation } from '@tanstack/react-query';
import { type ReactNode, useId, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../lib/api.ts';
import { type LookupKind, type Lookups, useLookups } from '../lib/lookups.ts';
import { can, type Permission } from '../lib/permissions.ts';
import { invalidate, useDebounced, usePaged } from '../lib/query.ts';
import { type FieldDef, Form, type Values } from './form.tsx';
import { ListFoot } from './ListTable.tsx';
import { Dialog, Empty, ErrorBox, Loading, PageHead } from './ui.tsx';

export interface Column<T> {
  label: string;
  render: (item: T, lookups: Lookups) => ReactNode;
  className?: string;
}

export interface ResourceDef<T extends { id: string }> {
  title: string;
  /**
   * The resource's own phrases ("New site", "Create site", "Edit site", "Delete site?"):
   * whole phrases, since in Russian each agrees with its noun («Новый пропуск», «Новая зона»).
   */
  phrases: { new: string; create: string; edit: string; deleteTitle: string };
  path: string;
  read: Permission;
  write: Permission;
  /** Which reference lists the columns and fields need. */
  lookups?: LookupKind[];
  /** Other resources a write to this one changes (a user's roles make them a host). */
  invalidates?: string[];
  columns: Column<T>[];
  fields: (lookups: Lookups) => FieldDef[];
  empty: Values;
  toValues?: (item: T) => Values;
  toBody: (values: Values, mode: 'create' | 'edit') => Record<string, unknown>;
  /**
   * The search box asks the server (its `q`: an exact id, e-mail, phone or card number) over every row,
   * page by page: for the lists that grow with the organisation (passes, visitors), where the loaded
   * rows are a sliver of them.
   */
  serverSearch?: boolean;
  /** Otherwise, the text of each loaded row the search box matches (the short lists: sites, gates, rules). */
  searchText?: (item: T, lookups: Lookups) => string;
  canEdit?: boolean;
  canDelete?: boolean;
  rowActions?: (item: T) => ReactNode;
  headActions?: ReactNode;
  emptyText: string;
  /** Extra query (filters) of the list. */
  query?: Record<string, string>;
  /** After a create, something to show (an issued pass's guest link). */
  afterCreate?: (created: unknown) => void;
}

export function ResourcePage<T extends { id: string }>({ def }: { def: ResourceDef<T> }) {
  const { t } = useTranslation();
  const { lookups } = useLookups(def.lookups ?? []);
  const [search, setSearch] = useState('');
  // A new term is a new query key: the list starts again from its first page, the rows found before showing meanwhile.
  const q = useDebounced(search.trim());
  const serverQuery = useMemo(() => (def.serverSearch && q ? { ...def.query, q } : (def.query ?? {})), [def.serverSearch, def.query, q]);
  const list = usePaged<T>(def.path, serverQuery);
  const [editing, setEditing] = useState<{ mode: 'create' | 'edit'; item?: T } | null>(null);
  const [deleting, setDeleting] = useState<T | null>(null);
  const searchId = useId();
  const writable = can(def.write);

  const shown = useMemo(() => {
    const text = search.trim().toLowerCase();
    if (def.serverSearch || !text || !def.searchText) return list.items;
    const of = def.searchText;
    return list.items.filter((it) => of(it, lookups).toLowerCase().includes(text));
  }, [list.items, search, def, lookups]);
  // What the rows shown were searched for: on the server, the term they were asked with.
  const searched = def.serverSearch ? q : search.trim();

  // Every list, lookup and detail read from this resource (and the ones it changes) refetches.
  const changed = () => invalidate(def.path, ...(def.invalidates ?? []));
  const save = useMutation({
    mutationFn: ({ values, mode, item }: { values: Values; mode: 'create' | 'edit'; item?: T | undefined }) => {
      const body = def.toBody(values, mode);
      return mode === 'create' ? api.post<unknown>(def.path, body) : api.patch<unknown>(`${def.path}/${item?.id}`, body);
    },
    onSuccess: (answer, { mode }) => {
      setEditing(null);
      void changed();
      if (mode === 'create') def.afterCreate?.(answer);
    },
  });
  const remove = useMutation({
    mutationFn: (item: T) => api.del(`${def.path}/${item.id}`),
    onSuccess: () => {
      setDeleting(null);
      void changed();
    },
  });

  const hasActions = (writable && (def.canEdit || def.canDelete)) || !!def.rowActions;

  return (
    <>
      <PageHead title={def.title}>
        {def.headActions}
        {writable ? (
          <button type="button" className="primary" onClick={() => setEditing({ mode: 'create' })}>
            {def.phrases.new}
          </button>
        ) : null}
      </PageHead>
      <div className="toolbar">
        <div className="field">
          <label htmlFor={searchId}>{t('search')}</label>
          <input
            id={searchId}
            type="search"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
            placeholder={def.serverSearch ? t('searchPlaceholder') : t('filterPlaceholder')}
            // The API's limit for q: longer is refused, and no e-mail, phone or id is longer.
            maxLength={def.serverSearch ? 200 : undefined}
          />
        </div>
      </div>
      <ErrorBox error={list.error} />
      {list.loading && list.items.length === 0 ? (
        <Loading />
      ) : shown.length === 0 ? (
        <div className="table-wrap">
          <Empty>
            {searched ? `${t('nothingMatches', { search: searched })}${def.serverSearch ? ` ${t('searchExact')}` : ''}` : def.emptyText}
          </Empty>
        </div>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                {def.columns.map((c) => (
                  <th key={c.label} className={c.className} scope="col">
                    {c.label}
                  </th>
                ))}
                {hasActions ? (
                  <th scope="col">
                    <span className="sr-only">{t('actions')}</span>
                  </th>
                ) : null}
              </tr>
            </thead>
            <tbody>
              {shown.map((it) => (
                <tr key={it.id}>
                  {def.columns.map((c) => (
                    <td key={c.label} className={c.className}>
                      {c.render(it, lookups)}
                    </td>
                  ))}
                  {hasActions ? (
                    <td className="nowrap">
                      <div className="actions">
                        {def.rowActions?.(it)}
                        {writable && def.canEdit ? (
                          <button type="button" onClick={() => setEditing({ mode: 'edit', item: it })}>
                            {t('edit')}
                          </button>
                        ) : null}
                        {writable && def.canDelete ? (
                          <button
                            type="button"
                            className="danger"
                            onClick={() => {
                              remove.reset();
                              setDeleting(it);
                            }}
                          >
                            {t('delete')}
                          </button>
                        ) : null}
                      </div>
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <ListFoot count={shown.length} list={list} />

      <Dialog title={editing?.mode === 'edit' ? def.phrases.edit : def.phrases.new} open={!!editing} onClose={() => setEditing(null)}>
        {editing ? (
          <Form
            fields={def.fields(lookups)}
            initial={editing.item && def.toValues ? def.toValues(editing.item) : def.empty}
            mode={editing.mode}
            submitLabel={editing.mode === 'edit' ? t('saveChanges') : def.phrases.create}
            onSubmit={async (values) => {
              await save.mutateAsync({ values, mode: editing.mode, item: editing.item });
            }}
            onCancel={() => setEditing(null)}
          />
        ) : null}
      </Dialog>

      <Dialog
        title={def.phrases.deleteTitle}
        open={!!deleting}
        onClose={() => setDeleting(null)}
        footer={
          <>
            <button type="button" onClick={() => setDeleting(null)}>
              {t('cancel')}
            </button>
            <button type="button" className="danger" onClick={() => deleting && remove.mutate(deleting)}>
              {t('delete')}
            </button>
          </>
        }
      >
        <ErrorBox error={remove.error} />
        <p>{t('deleteNote')}</p>
      </Dialog>
    </>
  );
}
