import { useId } from 'react';
import { type Option, OptionList } from './form.tsx';

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
}: {
  label: string;
  options: readonly Option[];
  value: string;
  onChange: (value: string) => void;
  all?: string;
  hideLabel?: boolean;
}) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id} className={hideLabel ? 'sr-only' : undefined}>
        {label}
      </label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
        {all !== undefined ? <option value="">{all}</option> : null}
        <OptionList options={options} />
      </select>
    </div>
  );
}
