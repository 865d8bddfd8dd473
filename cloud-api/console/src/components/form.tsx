import { useQuery } from '@tanstack/react-query';
import { type FormEvent, type ReactNode, useEffect, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import i18n from '../i18n/index.ts';
import { ApiError } from '../lib/api.ts';
import { WEEKDAYS, weekdayName } from '../lib/format.ts';
import type { TimeWindow } from '../lib/types.ts';
import { ErrorBox, Field } from './ui.tsx';

export type Values = Record<string, unknown>;
/** A form value as trimmed text ('' for anything else). */
export const str = (v: unknown) => (typeof v === 'string' ? v.trim() : '');
/** Trimmed text, or null when empty (optional fields the server takes as null). */
export const orNull = (v: unknown) => str(v) || null;
export interface Option {
  value: string;
  label: string;
}

/** A select's choices (form fields and the selects outside forms alike). */
export function OptionList({ options }: { options: readonly Option[] }) {
  return options.map((o) => (
    <option key={o.value} value={o.value}>
      {o.label}
    </option>
  ));
}

export type FieldKind =
  | 'text'
  | 'email'
  | 'tel'
  | 'password'
  | 'number'
  | 'datetime'
  | 'date'
  | 'select'
  | 'multicheck'
  | 'checkbox'
  | 'weekdays'
  | 'windows';

export interface FieldDef {
  name: string;
  label: string;
  kind: FieldKind;
  required?: boolean;
  hint?: string;
  placeholder?: string;
  /** Options of select / multicheck, computed from the current values (a zone list filtered by the chosen site). */
  options?: (values: Values) => Option[];
  /**
   * A select or multicheck whose options are more than the console loads (a large organisation's visitors, hosts):
   * the server is asked for them — for the newest with no text, for the matches of what is typed in the search box
   * beside it. `options` then only names what is already chosen (an edited row's host), which stays listed.
   */
  search?: (text: string, values: Values) => Promise<Option[]>;
  /** The other values the search's answer depends on (a visitor's appointments): a change asks again. */
  searchDeps?: (values: Values) => unknown[];
  validate?: (value: unknown, values: Values) => string | null;
  /** Shown only when creating (e.g. a password) or only when editing (e.g. a status). */
  only?: 'create' | 'edit';
  /** Shown only while the other values call for it (a group's size, a special day's hours); hidden fields are not checked. */
  when?: (values: Values) => boolean;
  wide?: boolean;
}

const HHMM = /^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function isEmpty(v: unknown): boolean {
  return v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0);
}

/** The same checks the server makes, so most mistakes are caught before a round trip. */
export function validateAll(fields: FieldDef[], values: Values): Record<string, string> {
  const t = i18n.t;
  const errors: Record<string, string> = {};
  for (const f of fields) {
    const v = values[f.name];
    if (f.required && isEmpty(v)) {
      errors[f.name] = f.kind === 'multicheck' ? t('form.chooseOne') : t('form.required');
      continue;
    }
    if (!isEmpty(v)) {
      if (f.kind === 'email' && typeof v === 'string' && !EMAIL.test(v)) errors[f.name] = t('form.notEmail');
      if (f.kind === 'number' && !(typeof v === 'string' ? /^[0-9]+$/.test(v) : Number.isInteger(v)))
        errors[f.name] = t('form.wholeNumber');
      if (f.kind === 'windows') {
        const ws = v as TimeWindow[];
        const bad = ws.find((w) => !HHMM.test(w.from) || !HHMM.test(w.to));
        if (bad) errors[f.name] = t('form.timeFormat');
        else if (ws.some((w) => w.from === w.to)) errors[f.name] = t('form.windowEmpty');
      }
    }
    const custom = f.validate?.(v, values);
    if (custom && !errors[f.name]) errors[f.name] = custom;
  }
  return errors;
}

function WeekdayToggles({ id, value, onChange }: { id: string; value: number[]; onChange: (v: number[]) => void }) {
  return (
    <fieldset className="checks" id={id}>
      {WEEKDAYS.map((n) => {
        const on = value.includes(n);
        return (
          <button
            key={n}
            type="button"
            className="toggle-day"
            aria-pressed={on}
            onClick={() => onChange(on ? value.filter((x) => x !== n) : [...value, n].sort())}
          >
            {weekdayName(n)}
          </button>
        );
      })}
    </fieldset>
  );
}

function WindowsEditor({ id, value, onChange }: { id: string; value: TimeWindow[]; onChange: (v: TimeWindow[]) => void }) {
  const { t } = useTranslation();
  const set = (i: number, patch: Partial<TimeWindow>) => onChange(value.map((w, j) => (j === i ? { ...w, ...patch } : w)));
  return (
    <div id={id}>
      {value.length === 0 ? <p className="muted">{t('form.allDay')}</p> : null}
      {value.map((w, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: windows have no identity beyond their position
        <div className="window-row" key={i}>
          <label>
            <span className="sr-only">{t('form.windowFrom', { n: i + 1 })}</span>
            <input type="time" value={w.from} onChange={(e) => set(i, { from: e.target.value })} required />
          </label>
          <span aria-hidden="true">–</span>
          <label>
            <span className="sr-only">{t('form.windowTo', { n: i + 1 })}</span>
            <input type="time" value={w.to === '24:00' ? '23:59' : w.to} onChange={(e) => set(i, { to: e.target.value })} required />
          </label>
          <button type="button" className="link" onClick={() => onChange(value.filter((_, j) => j !== i))}>
            {t('form.remove')}
          </button>
        </div>
      ))}
      {value.length < 16 ? (
        <button type="button" onClick={() => onChange([...value, { from: '08:00', to: '20:00' }])}>
          {t('form.addWindow')}
        </button>
      ) : null}
    </div>
  );
}

function Input({
  f,
  id,
  value,
  values,
  onChange,
  error,
}: {
  f: FieldDef;
  id: string;
  value: unknown;
  values: Values;
  onChange: (v: unknown) => void;
  error: boolean;
}) {
  const { t } = useTranslation();
  const common = {
    id,
    name: f.name,
    'aria-invalid': error,
    'aria-describedby': error ? `${id}-error` : f.hint ? `${id}-hint` : undefined,
  };
  switch (f.kind) {
    case 'select':
      if (f.search)
        return (
          <SearchSelect
            searchKey={f.name}
            label={f.label}
            search={(q) => f.search!(q, values)}
            deps={f.searchDeps?.(values)}
            known={f.options?.(values)}
            value={String(value ?? '')}
            onChange={onChange}
            empty={f.required ? t('choose') : '—'}
            selectProps={common}
          />
        );
      return (
        <select {...common} value={String(value ?? '')} onChange={(e) => onChange(e.target.value)}>
          <option value="">{f.required ? t('choose') : '—'}</option>
          <OptionList options={f.options?.(values) ?? []} />
        </select>
      );
    case 'multicheck': {
      const arr = (value as string[] | undefined) ?? [];
      if (f.search) return <SearchableChecks f={f} id={id} error={error} value={arr} values={values} onChange={onChange} />;
      const opts = f.options?.(values) ?? [];
      return (
        <fieldset className="checks" id={id} aria-invalid={error}>
          {opts.length === 0 ? <span className="muted">{t('form.nothingToChoose')}</span> : null}
          {opts.map((o) => (
            <label key={o.value}>
              <input
                type="checkbox"
                checked={arr.includes(o.value)}
                onChange={(e) => onChange(e.target.checked ? [...arr, o.value] : arr.filter((x) => x !== o.value))}
              />
              {o.label}
            </label>
          ))}
        </fieldset>
      );
    }
    case 'checkbox':
      return <input {...common} type="checkbox" checked={value === true} onChange={(e) => onChange(e.target.checked)} />;
    case 'weekdays':
      return <WeekdayToggles id={id} value={(value as number[] | undefined) ?? []} onChange={onChange} />;
    case 'windows':
      return <WindowsEditor id={id} value={(value as TimeWindow[] | undefined) ?? []} onChange={onChange} />;
    default:
      return (
        <input
          {...common}
          type={f.kind === 'datetime' ? 'datetime-local' : f.kind === 'number' ? 'text' : f.kind}
          inputMode={f.kind === 'number' ? 'numeric' : undefined}
          autoComplete={f.kind === 'password' ? 'new-password' : 'off'}
          placeholder={f.placeholder}
          value={String(value ?? '')}
          onChange={(e) => onChange(e.target.value)}
        />
      );
  }
}

/**
 * Options asked of the server: what is already known (chosen) first, then the server's answer — its newest with
 * the box empty, its matches once typing pauses (through react-query). `deps`: other values the answer depends on.
 */
function useSearchedOptions(key: string, search: (text: string) => Promise<Option[]>, known: Option[], deps: unknown[] = []) {
  const [text, setText] = useState('');
  const [typed, setTyped] = useState('');
  useEffect(() => {
    const timer = setTimeout(() => setTyped(text.trim()), 250);
    return () => clearTimeout(timer);
  }, [text]);
  const found = useQuery({ queryKey: ['field-search', key, typed, ...deps], queryFn: () => search(typed), staleTime: 30_000 });
  const answer = found.data ?? [];
  const all = [...known, ...answer];
  return {
    text,
    setText,
    typed,
    searching: found.isFetching,
    options: all.filter((o, i) => all.findIndex((k) => k.value === o.value) === i),
    answered: answer.length,
  };
}

function SearchBox({ label, controls, text, setText }: { label: string; controls: string; text: string; setText: (t: string) => void }) {
  const { t } = useTranslation();
  return (
    <input
      type="search"
      aria-label={t('form.searchIn', { field: label })}
      aria-controls={controls}
      placeholder={t('form.searchPlaceholder')}
      value={text}
      onChange={(e) => setText(e.target.value)}
    />
  );
}

/**
 * A native select (keyboard, screen readers and the tests' selectOption as any other) with a search box before it,
 * for choices more than the console loads (a large organisation's people): the options are the server's (see
 * useSearchedOptions); the chosen one stays listed whatever the search shows. Form fields with `search` and the
 * filters above a list (SelectField) use it.
 */
export function SearchSelect({
  searchKey,
  label,
  search,
  deps,
  known = [],
  value,
  onChange,
  empty,
  selectProps,
}: {
  searchKey: string;
  label: string;
  search: (text: string) => Promise<Option[]>;
  deps?: unknown[];
  known?: Option[];
  value: string;
  onChange: (v: string) => void;
  /** The text of the empty choice when no search is under way. */
  empty: string;
  selectProps: { id: string } & Record<string, unknown>;
}) {
  const { t } = useTranslation();
  const [chosen, setChosen] = useState<Option | null>(null);
  const s = useSearchedOptions(searchKey, search, [...known, ...(chosen && chosen.value === value ? [chosen] : [])], deps);
  return (
    <div className="searchable-select">
      <SearchBox label={label} controls={selectProps.id} text={s.text} setText={s.setText} />
      <select
        {...selectProps}
        value={value}
        onChange={(e) => {
          setChosen(s.options.find((o) => o.value === e.target.value) ?? null);
          onChange(e.target.value);
        }}
      >
        <option value="">{s.typed && s.searching ? t('form.searching') : s.typed && s.answered === 0 ? t('form.noMatch') : empty}</option>
        <OptionList options={s.options} />
      </select>
    </div>
  );
}

/**
 * Checkboxes with a search box before them (an appointment's visitors among a large organisation's): the chosen
 * ones stay listed and checked, the server's answer follows them unchecked.
 */
function SearchableChecks({
  f,
  id,
  error,
  value,
  values,
  onChange,
}: {
  f: FieldDef;
  id: string;
  error: boolean;
  value: string[];
  values: Values;
  onChange: (v: unknown) => void;
}) {
  const { t } = useTranslation();
  const [picked, setPicked] = useState<Option[]>([]);
  const s = useSearchedOptions(
    f.name,
    (q) => f.search!(q, values),
    [...(f.options?.(values) ?? []), ...picked.filter((o) => value.includes(o.value))],
    f.searchDeps?.(values),
  );
  return (
    <div className="searchable-select">
      <SearchBox label={f.label} controls={id} text={s.text} setText={s.setText} />
      <fieldset className="checks" id={id} aria-invalid={error} aria-busy={s.searching}>
        {s.options.length === 0 ? <span className="muted">{s.typed ? t('form.noMatch') : t('form.nothingToChoose')}</span> : null}
        {s.options.map((o) => (
          <label key={o.value}>
            <input
              type="checkbox"
              checked={value.includes(o.value)}
              onChange={(e) => {
                if (e.target.checked) setPicked((prev) => [...prev.filter((p) => p.value !== o.value), o]);
                onChange(e.target.checked ? [...value, o.value] : value.filter((x) => x !== o.value));
              }}
            />
            {o.label}
          </label>
        ))}
      </fieldset>
    </div>
  );
}

/**
 * A form over `fields`: validates before sending, and puts the server's
 * answer next to the field it names (or above the form when it names none).
 */
export function Form({
  fields,
  initial,
  mode,
  submitLabel,
  onSubmit,
  onCancel,
  children,
}: {
  fields: FieldDef[];
  initial: Values;
  mode: 'create' | 'edit';
  submitLabel: string;
  onSubmit: (values: Values) => Promise<void>;
  onCancel?: () => void;
  children?: ReactNode;
}) {
  const { t } = useTranslation();
  const [values, setValues] = useState<Values>(initial);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const base = useId();
  const shown = fields.filter((f) => (!f.only || f.only === mode) && (!f.when || f.when(values)));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const errs = validateAll(shown, values);
    setErrors(errs);
    setFormError(null);
    if (Object.keys(errs).length > 0) {
      const first = shown.find((f) => errs[f.name]);
      if (first) document.getElementById(`${base}-${first.name}`)?.focus();
      return;
    }
    setBusy(true);
    try {
      await onSubmit(values);
    } catch (err) {
      if (err instanceof ApiError && err.field && shown.some((f) => f.name === err.field)) {
        setErrors({ [err.field]: err.message });
        document.getElementById(`${base}-${err.field}`)?.focus();
      } else setFormError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={submit} noValidate>
      <ErrorBox error={formError} />
      <div className="form-grid">
        {shown.map((f) => {
          const id = `${base}-${f.name}`;
          const input = (
            <Input
              f={f}
              id={id}
              value={values[f.name]}
              values={values}
              error={!!errors[f.name]}
              onChange={(v) => {
                setValues((prev) => ({ ...prev, [f.name]: v }));
                if (errors[f.name]) setErrors((prev) => ({ ...prev, [f.name]: '' }));
              }}
            />
          );
          const wide = f.wide || f.kind === 'multicheck' || f.kind === 'windows' || f.kind === 'weekdays';
          return (
            <div key={f.name} style={wide ? { gridColumn: '1 / -1' } : undefined}>
              <Field id={id} label={f.required ? `${f.label} *` : f.label} hint={f.hint} error={errors[f.name]}>
                {input}
              </Field>
            </div>
          );
        })}
      </div>
      {children}
      <div className="actions">
        <button type="submit" className="primary" disabled={busy}>
          {busy ? t('saving') : submitLabel}
        </button>
        {onCancel ? (
          <button type="button" onClick={onCancel} disabled={busy}>
            {t('cancel')}
          </button>
        ) : null}
      </div>
    </form>
  );
}
