import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { Paged } from '../lib/query.ts';
import { Empty, Loading } from './ui.tsx';

/**
 * A list shown as a table, as the console's lists show one: Loading while
 * the first answer is awaited, the empty text when there is nothing, else the
 * header row and one row per item. The caller renders each `<tr>` (its key,
 * data attributes and cells); this only saves restating the frame.
 */
export function ListTable<T>({
  items,
  loading,
  empty,
  columns,
  row,
  testId,
}: {
  items: readonly T[];
  /** No answer yet: with no items, Loading rather than the empty text. */
  loading: boolean;
  empty: ReactNode;
  /** Column headers in order; a `false` one (a column this viewer has no use for, such as actions) is left out. */
  columns: readonly (string | false)[];
  row: (item: T) => ReactNode;
  /** The table's data-testid, for the tests that read its rows. */
  testId?: string;
}) {
  if (items.length === 0)
    return loading ? (
      <Loading />
    ) : (
      <div className="table-wrap">
        <Empty>{empty}</Empty>
      </div>
    );
  return (
    <div className="table-wrap">
      <table data-testid={testId}>
        <thead>
          <tr>
            {columns.map((c) =>
              c === false ? null : (
                <th key={c} scope="col">
                  {c}
                </th>
              ),
            )}
          </tr>
        </thead>
        <tbody>{items.map(row)}</tbody>
      </table>
    </div>
  );
}

/**
 * Under a paged list: how many rows are shown and, while the server has
 * more, a note saying so and the button that loads the next page.
 */
export function ListFoot({ count, list }: { count: number; list: Pick<Paged<unknown>, 'hasMore' | 'loading' | 'loadMore'> }) {
  const { t } = useTranslation('common');
  return (
    <div className="list-foot">
      <span>
        {t('shown', { count })}
        {list.hasMore ? ` · ${t('moreOnServer')}` : ''}
      </span>
      {list.hasMore ? (
        <button type="button" onClick={list.loadMore} disabled={list.loading}>
          {list.loading ? t('loading') : t('loadMore')}
        </button>
      ) : null}
    </div>
  );
}
