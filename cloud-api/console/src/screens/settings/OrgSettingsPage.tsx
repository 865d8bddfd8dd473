/**
 * Organisation settings: the branding of messages, the default language,
 * reminders, the guest page's static QR, the access rule of passes hosts
 * issue, and the Telegram bot. The bot token is write-only: the API checks
 * it with Telegram and answers only the bot's name.
 */
import { useMutation, useQuery } from '@tanstack/react-query';
import { type FormEvent, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { type FieldDef, Form, orNull, str, type Values } from '../../components/form.tsx';
import { ErrorBox, Field, Loading, PageHead } from '../../components/ui.tsx';
import { api } from '../../lib/api.ts';
import { useLookups } from '../../lib/lookups.ts';
import { queryClient } from '../../lib/query.ts';
import type { OrgSettingsView as OrgSettings } from '../../lib/types.ts';

const PATH = '/api/admin/org-settings';

export function OrgSettingsPage() {
  const { t } = useTranslation('settings');
  const [notice, setNotice] = useState<string | null>(null);
  const settings = useQuery({ queryKey: [PATH], queryFn: () => api.get<OrgSettings>(PATH) });
  const { lookups } = useLookups(['rules']);
  const rules = [...(lookups.rules?.values() ?? [])];
  const saved = (s: OrgSettings, message: string) => {
    queryClient.setQueryData([PATH], s);
    setNotice(message);
  };

  const fields: FieldDef[] = [
    {
      name: 'logoUrl',
      label: t('field.logoUrl'),
      kind: 'text',
      hint: t('field.logoUrlHint'),
      placeholder: 'https://',
      wide: true,
      validate: (v) => (str(v) && !/^https:\/\/\S+$/.test(str(v)) ? t('error.url') : null),
    },
    {
      name: 'brandColor',
      label: t('field.brandColor'),
      kind: 'text',
      hint: t('field.brandColorHint'),
      placeholder: '#1f6feb',
      validate: (v) => (str(v) && !/^#[0-9a-fA-F]{6}$/.test(str(v)) ? t('error.color') : null),
    },
    {
      name: 'defaultLanguage',
      label: t('field.defaultLanguage'),
      kind: 'select',
      required: true,
      options: () => (['en', 'ru'] as const).map((l) => ({ value: l, label: t(`language.${l}`) })),
    },
    {
      name: 'reminderLeadMinutes',
      label: t('field.reminderLeadMinutes'),
      kind: 'number',
      required: true,
      hint: t('field.reminderLeadMinutesHint'),
      validate: (v) => (Number(v) > 10_080 ? t('error.range') : null),
    },
    {
      name: 'hostInviteRuleId',
      label: t('field.hostInviteRuleId'),
      kind: 'select',
      hint: t('field.hostInviteRuleIdHint'),
      options: () => rules.map((r) => ({ value: r.id, label: r.name })),
    },
    { name: 'guestStaticQr', label: t('field.guestStaticQr'), kind: 'checkbox', wide: true },
  ];

  const s = settings.data;
  return (
    <>
      <PageHead title={t('title')} />
      <p className="muted">
        {t('intro')} {s ? <strong>{s.orgName}</strong> : null}
      </p>
      <ErrorBox error={settings.error} />
      {notice ? (
        <div className="alert" role="status">
          {notice}
        </div>
      ) : null}
      {!s ? (
        settings.isLoading ? (
          <Loading />
        ) : null
      ) : (
        <>
          <Form
            key={JSON.stringify({ ...s, telegramBot: null })}
            fields={fields}
            mode="edit"
            initial={{
              logoUrl: s.logoUrl ?? '',
              brandColor: s.brandColor ?? '',
              defaultLanguage: s.defaultLanguage,
              reminderLeadMinutes: String(s.reminderLeadMinutes),
              hostInviteRuleId: s.hostInviteRuleId ?? '',
              guestStaticQr: s.guestStaticQr,
            }}
            submitLabel={t('save')}
            onSubmit={async (v: Values) => {
              setNotice(null);
              const next = await api.patch<OrgSettings>(PATH, {
                logoUrl: orNull(v.logoUrl),
                brandColor: orNull(v.brandColor),
                defaultLanguage: str(v.defaultLanguage) || 'en',
                reminderLeadMinutes: Number(v.reminderLeadMinutes),
                hostInviteRuleId: orNull(v.hostInviteRuleId),
                guestStaticQr: v.guestStaticQr === true,
              });
              saved(next, t('saved'));
            }}
          />
          <TelegramBot bot={s.telegramBot} onSaved={saved} />
        </>
      )}
    </>
  );
}

function TelegramBot({ bot, onSaved }: { bot: OrgSettings['telegramBot']; onSaved: (s: OrgSettings, message: string) => void }) {
  const { t } = useTranslation('settings');
  const id = useId();
  const [token, setToken] = useState('');
  const connect = useMutation({
    mutationFn: () => api.patch<OrgSettings>(PATH, { telegramBotToken: token.trim() }),
    onSuccess: (s) => {
      setToken('');
      onSaved(s, t('telegram.connectedNotice', { username: s.telegramBot?.username ?? '' }));
    },
  });
  const remove = useMutation({
    mutationFn: () => api.patch<OrgSettings>(PATH, { telegramBotToken: null }),
    onSuccess: (s) => onSaved(s, t('telegram.removed')),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (token.trim()) connect.mutate();
  };
  return (
    <section className="card" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{t('telegram.title')}</h2>
      <p className="muted">{t('telegram.intro')}</p>
      <p>{bot ? t('telegram.connected', { username: bot.username }) : t('telegram.none')}</p>
      <ErrorBox error={connect.error ?? remove.error} />
      <form onSubmit={submit} noValidate>
        <Field id={`${id}-token`} label={t('telegram.token')}>
          <input
            id={`${id}-token`}
            type="password"
            autoComplete="off"
            spellCheck={false}
            value={token}
            placeholder="123456789:AA…"
            onChange={(e) => setToken(e.target.value)}
          />
        </Field>
        <div className="actions">
          <button type="submit" className="primary" disabled={!token.trim() || connect.isPending}>
            {bot ? t('telegram.replace') : t('telegram.connect')}
          </button>
          {bot ? (
            <button type="button" disabled={remove.isPending} onClick={() => remove.mutate()}>
              {t('telegram.remove')}
            </button>
          ) : null}
        </div>
      </form>
    </section>
  );
}
