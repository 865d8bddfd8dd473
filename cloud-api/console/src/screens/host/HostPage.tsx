import type { HostGuest, HostVisit } from '@gatehouse/cloud-api/api';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Badge, Empty, ErrorBox, Loading, PageHead } from '../../components/ui.tsx';
import { formatLocale } from '../../i18n/index.ts';
import { api } from '../../lib/api.ts';
import { fmtDateTime } from '../../lib/format.ts';
import { InviteDialog } from './InviteDialog.tsx';
import { HostPrefsPanel } from './PrefsPanel.tsx';
import { HOST_VISITS, useHostVisits } from './queries.ts';
import './host.css';

type State = HostGuest['state'];

/** "14:05" / "2:05 PM" on the site's clock (the browser's when the visit names no site). */
function hhmm(iso: string, timeZone: string | null): string {
  try {
    return new Intl.DateTimeFormat(formatLocale(), { hour: 'numeric', minute: '2-digit', ...(timeZone ? { timeZone } : {}) }).format(
      new Date(iso),
    );
  } catch {
    return new Intl.DateTimeFormat(formatLocale(), { hour: 'numeric', minute: '2-digit' }).format(new Date(iso));
  }
}

/** What the last action did, kept as a key so it reads in the language shown now. */
type Notice = { key: 'cancelled' } | { key: 'resent'; name: string } | { key: 'form.sent'; count: number } | null;
const TONE: Record<State, 'ok' | 'deny' | 'warn' | 'neutral'> = {
  not_invited: 'warn',
  invited: 'neutral',
  link_opened: 'neutral',
  signed_in: 'neutral',
  arrived: 'ok',
  left: 'neutral',
  revoked: 'deny',
};

/** A guest's state as a badge; `data-state` lets tests and styles tell states apart without reading the words. */
function StateBadge({ guest, zone }: { guest: HostGuest; zone: string | null }) {
  const { t } = useTranslation('host');
  return (
    <span className="nowrap">
      <Badge tone={TONE[guest.state]}>
        <span data-state={guest.state}>{t(`state.${guest.state}`)}</span>
      </Badge>
      {guest.stateAt ? <span className="muted"> {t('since', { time: hhmm(guest.stateAt, zone) })}</span> : null}
    </span>
  );
}

function VisitCard({ visit, onNotice }: { visit: HostVisit; onNotice: (n: Notice) => void }) {
  const { t } = useTranslation('host');
  const qc = useQueryClient();
  const zone = visit.site?.timezone ?? null;
  const refresh = () => qc.invalidateQueries({ queryKey: [HOST_VISITS.visits] });
  const cancel = useMutation({
    mutationFn: () => api.post<HostVisit>(HOST_VISITS.cancel(visit.id)),
    onSuccess: () => {
      onNotice({ key: 'cancelled' });
      void refresh();
    },
  });
  const resend = useMutation({
    mutationFn: (g: HostGuest) => api.post<HostVisit>(HOST_VISITS.resend(visit.id, g.visitorId)),
    onSuccess: (_v, g) => {
      onNotice({ key: 'resent', name: g.name });
      void refresh();
    },
  });
  const live = visit.status === 'scheduled';
  const headingId = `visit-${visit.id}`;
  return (
    <section className="card visit" aria-labelledby={headingId}>
      <div className="page-head">
        <h2 id={headingId} className="grow">
          {fmtDateTime(visit.startsAt, zone)} – {hhmm(visit.endsAt, zone)}
          {visit.site ? ` · ${visit.site.name}` : ''}
          {visit.room ? ` · ${t('room', { room: visit.room })}` : ''}
        </h2>
        <Badge tone={live ? 'neutral' : visit.status === 'done' ? 'ok' : 'warn'}>{t(`status.${visit.status}`)}</Badge>
        {live ? (
          <button
            type="button"
            className="danger"
            disabled={cancel.isPending}
            onClick={() => {
              if (window.confirm(t('cancelConfirm'))) cancel.mutate();
            }}
          >
            {t('cancelVisit')}
          </button>
        ) : null}
      </div>
      <ErrorBox error={cancel.error ?? resend.error} />
      {visit.guests.length === 0 ? (
        <p className="muted">{t('noGuests')}</p>
      ) : (
        <div className="table-wrap">
          <table>
            <caption className="sr-only">{t('guests')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('guest')}</th>
                <th scope="col">{t('company')}</th>
                <th scope="col">{t('email')}</th>
                <th scope="col">{t('stateHead')}</th>
                <th scope="col">
                  <span className="sr-only">{t('actions')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {visit.guests.map((g) => (
                <tr key={g.visitorId}>
                  <td>{g.name}</td>
                  <td>{g.company ?? '—'}</td>
                  <td className="mono">{g.email ?? '—'}</td>
                  <td>
                    <StateBadge guest={g} zone={zone} />
                  </td>
                  <td>
                    {live && g.passId && g.state !== 'revoked' ? (
                      <button
                        type="button"
                        className="link"
                        aria-label={t('resendFor', { name: g.name })}
                        disabled={resend.isPending}
                        onClick={() => resend.mutate(g)}
                      >
                        {t('resend')}
                      </button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/**
 * The host portal: my visits from yesterday on, each guest's state refreshed
 * every few seconds, "Invite guests", and my notification preferences.
 */
export function HostPage() {
  const { t } = useTranslation('host');
  const visits = useHostVisits();
  const qc = useQueryClient();
  const [inviting, setInviting] = useState(false);
  const [notice, setNotice] = useState<Notice>(null);
  const noticeText =
    notice?.key === 'cancelled'
      ? t('cancelled')
      : notice?.key === 'resent'
        ? t('resent', { name: notice.name })
        : notice?.key === 'form.sent'
          ? t('form.sent', { count: notice.count })
          : '';
  return (
    <>
      <PageHead title={t('title')}>
        <button type="button" className="primary" onClick={() => setInviting(true)}>
          {t('invite')}
        </button>
      </PageHead>
      {/* Announced to screen readers: what the last action did. */}
      <div role="status" className={noticeText ? 'alert info' : 'sr-only'}>
        {noticeText}
      </div>
      <InviteDialog
        open={inviting}
        onClose={() => setInviting(false)}
        onSent={(n) => {
          setInviting(false);
          setNotice({ key: 'form.sent', count: n });
          void qc.invalidateQueries({ queryKey: [HOST_VISITS.visits] });
        }}
      />
      <h2 className="sr-only">{t('upcoming')}</h2>
      {visits.isPending ? <Loading /> : null}
      <ErrorBox error={visits.error} />
      {visits.data && visits.data.items.length === 0 ? <Empty>{t('none')}</Empty> : null}
      {visits.data?.items.map((v) => (
        <VisitCard key={v.id} visit={v} onNotice={setNotice} />
      ))}
      <HostPrefsPanel />
    </>
  );
}
