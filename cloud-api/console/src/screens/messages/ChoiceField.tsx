import { Field } from '../../components/ui.tsx';

/**
 * A labelled `<select>` of a fixed list (channels, statuses, languages,
 * template keys), each option shown as `optionLabel(option)`. With `all`, a
 * first option '' stands for "any" (the log's filters).
 */
export function ChoiceField<V extends string>({
  id,
  label,
  options,
  optionLabel,
  all,
  value,
  onChange,
}: {
  id: string;
  label: string;
  options: readonly Exclude<V, ''>[];
  optionLabel: (option: Exclude<V, ''>) => string;
  all?: string;
  value: V;
  onChange: (value: V) => void;
}) {
  return (
    <Field id={id} label={label}>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value as V)}>
        {all !== undefined ? <option value="">{all}</option> : null}
        {options.map((o) => (
          <option key={o} value={o}>
            {optionLabel(o)}
          </option>
        ))}
      </select>
    </Field>
  );
}
