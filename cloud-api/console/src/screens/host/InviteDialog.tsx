import type { HostVisit, InvitationBody } from '@gatehouse/cloud-api/api';
import { useMutation, useQuery } from '@tanstack/react-query';
import { type FormEvent, useId, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Modal } from '../../components/Modal.tsx';
import { ErrorBox, Field } from '../../components/ui.tsx';
import { currentLanguage, type Language } from '../../i18n/index.ts';
import { api, getAll } from '../../lib/api.ts';
import { PATHS } from '../../lib/query.ts';
import type { Site } from '../../lib/types.ts';
import { HOST_VISITS } from './queries.ts';
import { defaultVisit, zonedToIso } from './zoned.ts';

interface GuestRow {
  key: number;
  fullName: string;
  email: string;
  phone: string;
  company: string;
}
type GuestErrors = Partial<Record<'fullName' | 'email' | 'phone', string>>;

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const PHONE = /^[0-9+() .-]{3,32}$/;
const MAX_GUESTS = 50;
let nextKey = 1;
const blankGuest = (): GuestRow => ({ key: nextKey++, fullName: '', email: '', phone: '', company: '' });

/** The site's zone; the browser's when the site names none this browser knows. */
const zoneOf = (site: Site | undefined) => site?.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;

/**
 * "Invite guests": the visit (site, date and hours on the site's clock, room,
 * language of the invitation) and its guests, one row each (name, e-mail,
 * phone, company), in one modal dialog (components/Modal: focus kept inside, Escape
 * closes). Every input has its label; errors sit under their field and are announced.
 */
export function InviteDialog({ open, onClose, onSent }: { open: boolean; onClose: () => void; onSent: (n: number) => void }) {
  const { t } = useTranslation('host');
  const base = useId();
  const sites = useQuery({ queryKey: [PATHS.sites, 'all'], queryFn: () => getAll<Site>(PATHS.sites), enabled: open });
  const [siteId, setSiteId] = useState('');
  const site = sites.data?.find((s) => s.id === siteId) ?? sites.data?.[0];
  const zone = zoneOf(site);
  const defaults = defaultVisit(Date.now(), zone);
  const [date, setDate] = useState<string | null>(null);
  const [from, setFrom] = useState<string | null>(null);
  const [until, setUntil] = useState<string | null>(null);
  const [room, setRoom] = useState('');
  // Null: the interface's language at the time of sending (the dialog stays mounted across a switch).
  const [language, setLanguage] = useState<Language | null>(null);
  const lang = language ?? currentLanguage();
  const [guests, setGuests] = useState<GuestRow[]>(() => [blankGuest()]);
  const [errors, setErrors] = useState<{ until?: string; date?: string; guests: Record<number, GuestErrors> }>({ guests: {} });
  const [formError, setFormError] = useState<unknown>(null);
  const formRef = useRef<HTMLFormElement>(null);

  const d = date ?? defaults.date;
  const f = from ?? defaults.from;
  const u = until ?? defaults.until;

  const reset = () => {
    setDate(null);
    setFrom(null);
    setUntil(null);
    setRoom('');
    setLanguage(null);
    setGuests([blankGuest()]);
    setErrors({ guests: {} });
    setFormError(null);
  };
  const close = () => {
    reset();
    onClose();
  };

  const invite = useMutation({
    mutationFn: (body: InvitationBody) => api.post<HostVisit>(HOST_VISITS.invitations, body),
    onSuccess: (visit) => {
      reset();
      onSent(visit.guests.length);
    },
    onError: (e) => setFormError(e),
  });

  const setGuest = (key: number, patch: Partial<GuestRow>) => {
    setGuests((gs) => gs.map((g) => (g.key === key ? { ...g, ...patch } : g)));
    setErrors((e) => ({ ...e, guests: { ...e.guests, [key]: {} } }));
  };

  const validate = () => {
    const gErr: Record<number, GuestErrors> = {};
    for (const g of guests) {
      const e: GuestErrors = {};
      if (!g.fullName.trim()) e.fullName = t('form.required');
      if (g.email.trim() && !EMAIL.test(g.email.trim())) e.email = t('form.notEmail');
      if (g.phone.trim() && !PHONE.test(g.phone.trim())) e.phone = t('form.notPhone');
      if (!g.email.trim() && !g.phone.trim()) e.email = t('form.needContact');
      if (Object.keys(e).length) gErr[g.key] = e;
    }
    const startsAt = zonedToIso(d, f, zone);
    const endsAt = zonedToIso(d, u, zone);
    const out = {
      guests: gErr,
      ...(!startsAt ? { date: t('form.required') } : {}),
      ...(startsAt && endsAt && endsAt <= startsAt ? { until: t('form.endAfterStart') } : {}),
    };
    setErrors(out);
    return { ok: !out.date && !out.until && Object.keys(gErr).length === 0, startsAt, endsAt };
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setFormError(null);
    const v = validate();
    if (!v.ok || !v.startsAt || !v.endsAt) {
      // Focus the first field that needs attention, as the other forms do.
      requestAnimationFrame(() => formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus());
      return;
    }
    invite.mutate({
      startsAt: v.startsAt,
      endsAt: v.endsAt,
      siteId: site?.id ?? null,
      room: room.trim() || null,
      language: lang,
      guests: guests.map((g) => ({
        fullName: g.fullName.trim(),
        email: g.email.trim() || null,
        phone: g.phone.trim() || null,
        company: g.company.trim() || null,
      })),
    });
  };

  const id = (name: string) => `${base}-${name}`;
  const described = (name: string, err?: string, hint?: boolean) => (err ? `${id(name)}-error` : hint ? `${id(name)}-hint` : undefined);

  return (
    <Modal title={t('form.title')} open={open} onClose={close} wide>
      <form ref={formRef} onSubmit={submit} noValidate>
        <ErrorBox error={formError} />
        <fieldset className="invite-when">
          <legend>{t('form.when')}</legend>
          <div className="form-grid">
            <Field id={id('site')} label={t('form.site')} hint={sites.data?.length === 0 ? t('form.noSites') : undefined}>
              <select id={id('site')} value={site?.id ?? ''} onChange={(e) => setSiteId(e.target.value)}>
                {(sites.data ?? []).map((s) => (
                  <option key={s.id} value={s.id}>
                    {s.name}
                  </option>
                ))}
              </select>
            </Field>
            <Field id={id('room')} label={t('form.room')}>
              <input id={id('room')} value={room} maxLength={200} onChange={(e) => setRoom(e.target.value)} />
            </Field>
            <Field id={id('date')} label={`${t('form.date')} *`} error={errors.date} hint={t('form.zoneHint', { zone })}>
              <input
                id={id('date')}
                type="date"
                value={d}
                aria-invalid={!!errors.date}
                aria-describedby={described('date', errors.date, true)}
                onChange={(e) => setDate(e.target.value)}
              />
            </Field>
            <Field id={id('from')} label={`${t('form.from')} *`}>
              <input id={id('from')} type="time" value={f} onChange={(e) => setFrom(e.target.value)} />
            </Field>
            <Field id={id('until')} label={`${t('form.until')} *`} error={errors.until}>
              <input
                id={id('until')}
                type="time"
                value={u}
                aria-invalid={!!errors.until}
                aria-describedby={described('until', errors.until)}
                onChange={(e) => setUntil(e.target.value)}
              />
            </Field>
            <Field id={id('language')} label={t('form.language')}>
              <select id={id('language')} value={lang} onChange={(e) => setLanguage(e.target.value as Language)}>
                <option value="en" lang="en">
                  English
                </option>
                <option value="ru" lang="ru">
                  Русский
                </option>
              </select>
            </Field>
          </div>
        </fieldset>
        <p className="muted">{t('form.contactHint')}</p>
        {guests.map((g, i) => {
          const n = i + 1;
          const e = errors.guests[g.key] ?? {};
          const gid = (name: string) => id(`g${g.key}-${name}`);
          return (
            <fieldset key={g.key} className="invite-guest">
              <legend>{t('form.guestN', { n })}</legend>
              <div className="form-grid">
                <Field id={gid('name')} label={`${t('form.fullName')} *`} error={e.fullName}>
                  <input
                    id={gid('name')}
                    value={g.fullName}
                    maxLength={200}
                    autoComplete="off"
                    aria-invalid={!!e.fullName}
                    aria-describedby={e.fullName ? `${gid('name')}-error` : undefined}
                    onChange={(ev) => setGuest(g.key, { fullName: ev.target.value })}
                  />
                </Field>
                <Field id={gid('email')} label={t('form.email')} error={e.email}>
                  <input
                    id={gid('email')}
                    type="email"
                    value={g.email}
                    maxLength={320}
                    autoComplete="off"
                    aria-invalid={!!e.email}
                    aria-describedby={e.email ? `${gid('email')}-error` : undefined}
                    onChange={(ev) => setGuest(g.key, { email: ev.target.value })}
                  />
                </Field>
                <Field id={gid('phone')} label={t('form.phone')} error={e.phone}>
                  <input
                    id={gid('phone')}
                    type="tel"
                    value={g.phone}
                    maxLength={32}
                    autoComplete="off"
                    aria-invalid={!!e.phone}
                    aria-describedby={e.phone ? `${gid('phone')}-error` : undefined}
                    onChange={(ev) => setGuest(g.key, { phone: ev.target.value })}
                  />
                </Field>
                <Field id={gid('company')} label={t('form.company')}>
                  <input
                    id={gid('company')}
                    value={g.company}
                    maxLength={200}
                    autoComplete="off"
                    onChange={(ev) => setGuest(g.key, { company: ev.target.value })}
                  />
                </Field>
              </div>
              {guests.length > 1 ? (
                <button type="button" className="link" onClick={() => setGuests((gs) => gs.filter((x) => x.key !== g.key))}>
                  {t('form.remove', { n })}
                </button>
              ) : null}
            </fieldset>
          );
        })}
        {guests.length < MAX_GUESTS ? (
          <button type="button" onClick={() => setGuests((gs) => [...gs, blankGuest()])}>
            {t('form.add')}
          </button>
        ) : null}
        <div className="actions">
          <button type="submit" className="primary" disabled={invite.isPending}>
            {invite.isPending ? t('form.sending') : t('form.submit')}
          </button>
          <button type="button" onClick={close} disabled={invite.isPending}>
            {t('cancel', { ns: 'common' })}
          </button>
        </div>
      </form>
    </Modal>
  );
}
