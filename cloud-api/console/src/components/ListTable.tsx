import type { ReactNode } from 'react';
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
}: {
  items: readonly T[];
  /** No answer yet: with no items, Loading rather than the empty text. */
  loading: boolean;
  empty: ReactNode;
  /** Column headers in order; a `false` one (a column this viewer has no use for, such as actions) is left out. */
  columns: readonly (string | false)[];
  row: (item: T) => ReactNode;
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
      <table>
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
