/**
 * Messages: the log of what the organisation sent (masked addresses, status,
 * Retry on failed and dead ones, a test message), the development mailbox
 * (only while the server has no SMTP_URL: the API answers 404 otherwise) and
 * the template editor (templates/TemplatesEditor.tsx).
 */
import { useMutation, useQuery } from '@tanstack/react-query';
import { type FormEvent, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ListTable } from '../../components/ListTable.tsx';
import { Badge, Empty, ErrorBox, Field, Loading, PageHead } from '../../components/ui.tsx';
import { currentLanguage } from '../../i18n/index.ts';
import { ApiError, api } from '../../lib/api.ts';
import { fmtDateTime } from '../../lib/format.ts';
import { can } from '../../lib/permissions.ts';
import { invalidate, usePaged } from '../../lib/query.ts';
import { href } from '../../lib/router.ts';
import { ChoiceField } from './ChoiceField.tsx';
import { TemplatesEditor } from './TemplatesEditor.tsx';
import './messages.css';
import {
  CHANNELS,
  type Channel,
  LANGUAGES,
  type Language,
  type MailMessage,
  type MailSummary,
  MESSAGES,
  type Message,
  STATUSES,
  type Status,
} from './types.ts';

const tone = (s: Status) => (s === 'sent' ? 'ok' : s === 'dead' ? 'deny' : s === 'failed' ? 'warn' : 'neutral');

/** The mailbox query: a 404 means "SMTP is configured", not an error to show. */
function useMailbox() {
  return useQuery({
    queryKey: [MESSAGES.mailbox],
    queryFn: async () => {
      try {
        return await api.get<{ items: MailSummary[] }>(MESSAGES.mailbox);
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) return null;
        throw err;
      }
    },
  });
}

export function MessagesPage({ tab, id }: { tab?: string | undefined; id?: string | undefined }) {
  const { t } = useTranslation('messages');
  const mailbox = useMailbox();
  const hasMailbox = !!mailbox.data;
  const current = tab === 'mailbox' ? 'mailbox' : tab === 'templates' ? 'templates' : 'log';
  const tabs: Array<{ key: 'log' | 'mailbox' | 'templates'; path: string }> = [
    { key: 'log', path: '/messages' },
    ...(hasMailbox ? [{ key: 'mailbox' as const, path: '/messages/mailbox' }] : []),
    { key: 'templates', path: '/messages/templates' },
  ];
  return (
    <>
      <PageHead title={t('title')} />
      <nav className="tabs" aria-label={t('title')}>
        {tabs.map((x) => (
          <a
            key={x.key}
            href={href(x.path)}
            aria-current={current === x.key ? 'page' : undefined}
            className={current === x.key ? 'tab active' : 'tab'}
          >
            {t(`tabs.${x.key}`)}
          </a>
        ))}
      </nav>
      {current === 'log' ? <MessageLog /> : null}
      {current === 'mailbox' ? <MailboxView id={id} available={mailbox.isLoading ? null : hasMailbox} error={mailbox.error} /> : null}
      {current === 'templates' ? <TemplatesEditor /> : null}
    </>
  );
}

function MessageLog() {
  const { t } = useTranslation(['messages', 'common']);
  const [status, setStatus] = useState<Status | ''>('');
  const [channel, setChannel] = useState<Channel | ''>('');
  const [notice, setNotice] = useState<string | null>(null);
  const list = usePaged<Message>(MESSAGES.log, { status: status || undefined, channel: channel || undefined });
  const retry = useMutation({
    mutationFn: (m: Message) => api.post<Message>(MESSAGES.retry(m.id)),
    onSuccess: () => {
      setNotice(t('log.retried'));
      void invalidate(MESSAGES.log);
    },
  });
  const mayWrite = can('notifications:write');
  const base = useId();
  return (
    <>
      <p className="muted">{t('log.intro')}</p>
      {mayWrite ? <TestMessage onSent={(msg) => setNotice(msg)} /> : null}
      {notice ? (
        <div className="alert" role="status">
          {notice}
        </div>
      ) : null}
      <div className="messages-filters form-grid">
        <ChoiceField
          id={`${base}-status`}
          label={t('log.filterStatus')}
          all={t('log.all')}
          options={STATUSES}
          optionLabel={(s) => t(`status.${s}`)}
          value={status}
          onChange={setStatus}
        />
        <ChoiceField
          id={`${base}-channel`}
          label={t('log.filterChannel')}
          all={t('log.all')}
          options={CHANNELS}
          optionLabel={(c) => t(`channel.${c}`)}
          value={channel}
          onChange={setChannel}
        />
      </div>
      <ErrorBox error={list.error ?? retry.error} />
      <ListTable
        items={list.items}
        loading={list.loading}
        empty={t('log.empty')}
        columns={[
          t('log.col.created'),
          t('log.col.channel'),
          t('log.col.template'),
          t('log.col.to'),
          t('log.col.status'),
          t('log.col.attempts'),
          t('log.col.error'),
          mayWrite && t('common:actions'),
        ]}
        row={(m) => (
          <tr key={m.id} data-message={m.id} data-status={m.status}>
            <td className="nowrap">{fmtDateTime(m.createdAt)}</td>
            <td>{t(`channel.${m.channel}`)}</td>
            <td>{t(`template.${m.template}`, { defaultValue: m.template })}</td>
            <td className="mono">{m.to}</td>
            <td>
              <Badge tone={tone(m.status)}>{t(`status.${m.status}`)}</Badge>
            </td>
            <td>{m.attempts}</td>
            <td className="details">{m.error ?? '—'}</td>
            {mayWrite ? (
              <td>
                {m.status === 'dead' || m.status === 'failed' ? (
                  <button
                    type="button"
                    disabled={retry.isPending && retry.variables?.id === m.id}
                    onClick={() => {
                      setNotice(null);
                      retry.mutate(m);
                    }}
                  >
                    {t('log.retry')}
                  </button>
                ) : null}
              </td>
            ) : null}
          </tr>
        )}
      />
      {list.hasMore ? (
        <div className="actions">
          <button type="button" onClick={list.loadMore} disabled={list.loading}>
            {t('log.more')}
          </button>
        </div>
      ) : null}
    </>
  );
}

function TestMessage({ onSent }: { onSent: (notice: string) => void }) {
  const { t } = useTranslation('messages');
  const base = useId();
  const [channel, setChannel] = useState<Channel>('email');
  const [to, setTo] = useState('');
  const [language, setLanguage] = useState<Language>(currentLanguage());
  const send = useMutation({
    mutationFn: () => api.post<Message>(MESSAGES.test, { channel, to: to.trim(), language }),
    onSuccess: () => {
      onSent(t('test.queued'));
      void invalidate(MESSAGES.log, MESSAGES.mailbox);
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (to.trim()) send.mutate();
  };
  return (
    <details className="card">
      <summary>{t('test.title')}</summary>
      <form onSubmit={submit} noValidate>
        <ErrorBox error={send.error} />
        <div className="form-grid">
          <ChoiceField
            id={`${base}-channel`}
            label={t('test.channel')}
            options={CHANNELS}
            optionLabel={(c) => t(`channel.${c}`)}
            value={channel}
            onChange={setChannel}
          />
          <Field id={`${base}-to`} label={t('test.to')} hint={t('test.toHint')}>
            <input id={`${base}-to`} value={to} onChange={(e) => setTo(e.target.value)} required />
          </Field>
          <ChoiceField
            id={`${base}-lang`}
            label={t('test.language')}
            options={LANGUAGES}
            optionLabel={(l) => t(`language.${l}`)}
            value={language}
            onChange={setLanguage}
          />
        </div>
        <div className="actions">
          <button type="submit" className="primary" disabled={send.isPending || !to.trim()}>
            {t('test.send')}
          </button>
        </div>
      </form>
    </details>
  );
}

function MailboxView({ id, available, error }: { id: string | undefined; available: boolean | null; error: unknown }) {
  const { t } = useTranslation('messages');
  const mailbox = useQuery({
    queryKey: [MESSAGES.mailbox, 'list'],
    queryFn: () => api.get<{ items: MailSummary[] }>(MESSAGES.mailbox),
    enabled: available === true && !id,
  });
  if (available === null) return <Loading />;
  if (!available)
    return (
      <>
        <ErrorBox error={error} />
        <Empty>{t('mailbox.unavailable')}</Empty>
      </>
    );
  if (id) return <MailView id={id} />;
  const items = mailbox.data?.items ?? [];
  return (
    <>
      <p className="muted">{t('mailbox.intro')}</p>
      <ErrorBox error={mailbox.error} />
      <ListTable
        items={items}
        loading={mailbox.isLoading}
        empty={t('mailbox.empty')}
        columns={[t('mailbox.col.date'), t('mailbox.col.to'), t('mailbox.col.subject')]}
        row={(m) => (
          <tr key={m.id} data-mail={m.id}>
            <td className="nowrap">{fmtDateTime(m.date)}</td>
            <td className="mono">{m.to}</td>
            <td>
              <a href={href(`/messages/mailbox/${m.id}`)}>{m.subject}</a>
            </td>
          </tr>
        )}
      />
    </>
  );
}

function MailView({ id }: { id: string }) {
  const { t } = useTranslation('messages');
  const mail = useQuery({ queryKey: [MESSAGES.mailbox, 'one', id], queryFn: () => api.get<MailMessage>(MESSAGES.mail(id)) });
  const m = mail.data;
  return (
    <>
      <p>
        <a href={href('/messages/mailbox')}>← {t('mailbox.back')}</a>
      </p>
      <ErrorBox error={mail.error} />
      {!m ? (
        mail.isLoading ? (
          <Loading />
        ) : null
      ) : (
        <article className="mail">
          <h2>{m.subject}</h2>
          <p className="muted">
            {fmtDateTime(m.date)} · <span className="mono">{m.to}</span>
          </p>
          <h3>{t('mailbox.html')}</h3>
          {/* The message's HTML in a sandbox with no permissions: no scripts, no same-origin access to the console. */}
          <iframe title={m.subject} sandbox="" srcDoc={m.html} className="messages-frame" />
          <h3>{t('mailbox.text')}</h3>
          <pre className="messages-text">{m.text}</pre>
          <h3>{t('mailbox.attachments')}</h3>
          {m.attachments.length === 0 ? (
            <p className="muted">{t('mailbox.noAttachments')}</p>
          ) : (
            <ul>
              {m.attachments.map((a) => (
                <li key={a} className="mono">
                  {a}
                </li>
              ))}
            </ul>
          )}
        </article>
      )}
    </>
  );
}
