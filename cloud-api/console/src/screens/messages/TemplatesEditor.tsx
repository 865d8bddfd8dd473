/**
 * The template editor: pick a message and a language, edit its subject and
 * text, and watch the preview the server renders with example values and the
 * organisation's branding (the same renderer real messages go through, so
 * what is shown is what is sent). Save stores the organisation's wording;
 * Reset returns to the default.
 */
import { useMutation, useQuery } from '@tanstack/react-query';
import { useEffect, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Badge, ErrorBox, Field, Loading } from '../../components/ui.tsx';
import { currentLanguage } from '../../i18n/index.ts';
import { api, request } from '../../lib/api.ts';
import { can } from '../../lib/permissions.ts';
import { invalidate } from '../../lib/query.ts';
import { ChoiceField } from './ChoiceField.tsx';
import { LANGUAGES, type Language, MESSAGES, type Rendered, TEMPLATE_KEYS, type Template, type TemplateKey } from './types.ts';

/** The preview follows typing, but not every keystroke. */
function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const h = setTimeout(() => setV(value), ms);
    return () => clearTimeout(h);
  }, [value, ms]);
  return v;
}

export function TemplatesEditor() {
  const { t } = useTranslation('messages');
  const base = useId();
  const [key, setKey] = useState<TemplateKey>('invitation');
  const [language, setLanguage] = useState<Language>(currentLanguage());
  const [draft, setDraft] = useState<{ subject: string; body: string } | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const list = useQuery({ queryKey: [MESSAGES.templates], queryFn: () => api.get<{ items: Template[] }>(MESSAGES.templates) });
  const current = list.data?.items.find((i) => i.key === key && i.language === language);
  // A new choice of message or language starts from what is stored.
  // biome-ignore lint/correctness/useExhaustiveDependencies: reset only when the choice or the stored wording changes
  useEffect(() => {
    setDraft(current ? { subject: current.subject, body: current.body } : null);
  }, [key, language, current?.subject, current?.body]);

  const debounced = useDebounced(draft, 300);
  const preview = useQuery({
    queryKey: [MESSAGES.preview, key, language, debounced?.subject, debounced?.body],
    queryFn: () => api.post<Rendered>(MESSAGES.preview, { key, language, ...(debounced ?? {}) }),
    enabled: !!debounced,
    placeholderData: (prev) => prev,
  });
  const save = useMutation({
    mutationFn: () => request<Template>('PUT', MESSAGES.template(key, language), draft),
    onSuccess: () => {
      setNotice(t('templates.saved'));
      void invalidate(MESSAGES.templates);
    },
  });
  const reset = useMutation({
    mutationFn: () => request<Template>('DELETE', MESSAGES.template(key, language)),
    onSuccess: () => {
      setNotice(t('templates.resetDone'));
      void invalidate(MESSAGES.templates);
    },
  });
  const mayWrite = can('notifications:write');
  const dirty = !!current && !!draft && (draft.subject !== current.subject || draft.body !== current.body);

  if (list.isLoading) return <Loading />;
  return (
    <>
      <p className="muted">{t('templates.intro')}</p>
      <ErrorBox error={list.error} />
      <div className="form-grid">
        <ChoiceField
          id={`${base}-key`}
          label={t('templates.key')}
          options={TEMPLATE_KEYS}
          optionLabel={(k) => t(`template.${k}`)}
          value={key}
          onChange={(k) => {
            setNotice(null);
            setKey(k);
          }}
        />
        <ChoiceField
          id={`${base}-lang`}
          label={t('templates.language')}
          options={LANGUAGES}
          optionLabel={(l) => t(`language.${l}`)}
          value={language}
          onChange={(l) => {
            setNotice(null);
            setLanguage(l);
          }}
        />
      </div>
      {current && draft ? (
        <div className="template-editor">
          <p>
            {current.customised ? (
              <Badge tone="warn">{t('templates.customised')}</Badge>
            ) : (
              <Badge tone="neutral">{t('templates.default')}</Badge>
            )}
          </p>
          <Field id={`${base}-subject`} label={t('templates.subject')}>
            <input
              id={`${base}-subject`}
              value={draft.subject}
              readOnly={!mayWrite}
              onChange={(e) => setDraft({ ...draft, subject: e.target.value })}
            />
          </Field>
          <Field id={`${base}-body`} label={t('templates.body')}>
            <textarea
              id={`${base}-body`}
              rows={12}
              value={draft.body}
              readOnly={!mayWrite}
              onChange={(e) => setDraft({ ...draft, body: e.target.value })}
              style={{ fontFamily: 'monospace', width: '100%' }}
            />
          </Field>
          <div className="muted">
            {t('templates.variables')}:{' '}
            {current.variables.map((v) => (
              <code key={v} style={{ marginRight: '0.5em' }}>{`{{${v}}}`}</code>
            ))}
            <br />
            {t('templates.sectionHint')} <code>{`{{#room}}${t('templates.sectionExample')}: {{room}}{{/room}}`}</code>
          </div>
          {notice ? (
            <div className="alert" role="status">
              {notice}
            </div>
          ) : null}
          <ErrorBox error={save.error ?? reset.error ?? preview.error} />
          {mayWrite ? (
            <div className="actions">
              <button type="button" className="primary" disabled={!dirty || save.isPending} onClick={() => save.mutate()}>
                {t('templates.save')}
              </button>
              <button type="button" disabled={!current.customised || reset.isPending} onClick={() => reset.mutate()}>
                {t('templates.reset')}
              </button>
            </div>
          ) : null}
          <h2>{t('templates.preview')}</h2>
          {preview.isFetching ? <p className="muted">{t('templates.previewing')}</p> : null}
          {preview.data ? (
            <div className="preview">
              <p>
                <strong>{preview.data.subject}</strong>
              </p>
              {/* Rendered by the server, shown with no permissions: no scripts, no access to the console. */}
              <iframe title={t('templates.preview')} sandbox="" srcDoc={preview.data.html} className="messages-frame" />
              <pre className="messages-text">{preview.data.text}</pre>
            </div>
          ) : null}
        </div>
      ) : null}
    </>
  );
}
