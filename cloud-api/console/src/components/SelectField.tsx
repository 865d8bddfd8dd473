import { useId } from 'react';
import { type Option, OptionList, SearchSelect } from './form.tsx';

/** Named rows (sites, gates) as a select's choices, in their order. */
export const optionsOf = (rows: Iterable<{ id: string; name: string }> | undefined): Option[] =>
  [...(rows ?? [])].map((r) => ({ value: r.id, label: r.name }));

/**
 * A labelled select outside a form: the filters above a list and the site
 * picker of a live screen. `all` leads with a choice of everything (value '');
 * without it one option is always chosen. In a page's head the label is for
 * screen readers only (`hideLabel`); in a filter bar it shows.
 */
export function SelectField({
  label,
  options,
  value,
  onChange,
  all,
  hideLabel,
  search,
}: {
  label: string;
  options: readonly Option[];
  value: string;
  onChange: (value: string) => void;
  all?: string;
  hideLabel?: boolean;
  /** Choices more than the console loads (a large organisation's users): asked of the server, with a search box. */
  search?: (text: string) => Promise<Option[]>;
}) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id} className={hideLabel ? 'sr-only' : undefined}>
        {label}
      </label>
      {search ? (
        <SearchSelect
          searchKey={label}
          label={label}
          search={search}
          known={[...options]}
          value={value}
          onChange={onChange}
          empty={all ?? ''}
          selectProps={{ id }}
        />
      ) : (
        <select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
          {all !== undefined ? <option value="">{all}</option> : null}
          <OptionList options={options} />
        </select>
      )}
    </div>
  );
}
