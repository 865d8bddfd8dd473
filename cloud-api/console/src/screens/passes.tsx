import { useEffect, useId, useMemo, useState } from 'react';
import type { FieldDef, Values } from '../components/form.tsx';
import { Qr } from '../components/Qr.tsx';
import { type ResourceDef, ResourcePage } from '../components/ResourcePage.tsx';
import { Badge, Dialog, ErrorBox, Field, Loading, PageHead } from '../components/ui.tsx';
import { ApiError, api } from '../lib/api.ts';
import { fmtDateTime, fromLocalInput, toLocalInput } from '../lib/format.ts';
import { useAsync } from '../lib/hooks.ts';
import { fetchLookup, type Lookups, nameOf, useLookups } from '../lib/lookups.ts';
import { can } from '../lib/permissions.ts';
import { reasonText } from '../lib/reasons.ts';
import { href } from '../lib/router.ts';
import type { Credential, IssuedPass, Pass, PassStatus, Visitor } from '../lib/types.ts';

const str = (v: unknown) => (typeof v === 'string' ? v.trim() : '');

export function StatusBadge({ status }: { status: PassStatus }) {
  const tone = status === 'active' ? 'ok' : status === 'revoked' ? 'deny' : status === 'draft' ? 'neutral' : 'warn';
  return <Badge tone={tone}>{status}</Badge>;
}

function passFields(l: Lookups): FieldDef[] {
  return [
    {
      name: 'visitorId',
      label: 'Visitor',
      kind: 'select',
      required: true,
      options: () =>
        [...(l.visitors?.values() ?? [])].map((v) => ({ value: v.id, label: v.company ? `${v.fullName} (${v.company})` : v.fullName })),
    },
    {
      name: 'accessRuleId',
      label: 'Access rule',
      kind: 'select',
      required: true,
      options: () => [...(l.rules?.values() ?? [])].map((r) => ({ value: r.id, label: r.name })),
    },
    {
      name: 'type',
      label: 'Type',
      kind: 'select',
      required: true,
      options: () => [
        { value: 'single', label: 'Single entry' },
        { value: 'multi', label: 'Multiple entries' },
        { value: 'group', label: 'Group' },
      ],
    },
    {
      name: 'appointmentId',
      label: 'Appointment',
      kind: 'select',
      options: (v) =>
        [...(l.appointments?.values() ?? [])]
          .filter((a) => !v.visitorId || a.visitorIds.includes(String(v.visitorId)))
          .map((a) => ({ value: a.id, label: `${fmtDateTime(a.startsAt)} · ${nameOf(l.hosts, a.hostId)}` })),
    },
    { name: 'validFrom', label: 'Valid from', kind: 'datetime', required: true },
    {
      name: 'validTo',
      label: 'Valid to',
      kind: 'datetime',
      required: true,
      validate: (v, all) => (str(v) && str(all.validFrom) && str(v) <= str(all.validFrom) ? 'Must be after “valid from”.' : null),
    },
    { name: 'maxUses', label: 'Max entries', kind: 'number', hint: 'Empty = as the rule says.' },
    {
      name: 'cardFormat',
      label: 'Card format',
      kind: 'select',
      hint: 'Only when the visitor also gets a card.',
      options: () => [
        { value: 'w26', label: 'Wiegand 26' },
        { value: 'w34', label: 'Wiegand 34' },
        { value: 'raw', label: 'Card number' },
      ],
    },
    {
      name: 'cardNumber',
      label: 'Card number',
      kind: 'text',
      validate: (v, all) => {
        if (!str(v)) return str(all.cardFormat) ? 'Enter the card number.' : null;
        if (!/^[0-9]{1,20}$/.test(str(v))) return 'Digits only.';
        return str(all.cardFormat) ? null : 'Choose the card format.';
      },
    },
  ];
}

function GuestLinkDialog({ pass, onClose }: { pass: IssuedPass | null; onClose: () => void }) {
  const [copied, setCopied] = useState(false);
  const id = useId();
  return (
    <Dialog
      title="Pass issued"
      open={!!pass}
      onClose={onClose}
      footer={
        <button type="button" onClick={onClose}>
          Done
        </button>
      }
    >
      {pass ? (
        <>
          <p>Send the visitor this link. It shows their rotating QR code and works until the pass ends.</p>
          <Field id={id} label="Guest link">
            <input id={id} readOnly value={pass.guestUrl} onFocus={(e) => e.target.select()} data-testid="guest-url" />
          </Field>
          <div className="actions">
            <button
              type="button"
              onClick={() =>
                navigator.clipboard?.writeText(pass.guestUrl).then(
                  () => setCopied(true),
                  () => setCopied(false),
                )
              }
            >
              {copied ? 'Copied' : 'Copy link'}
            </button>
            <a className="btn" href={href(`/passes/${pass.id}`)} onClick={onClose}>
              Open pass
            </a>
          </div>
        </>
      ) : null}
    </Dialog>
  );
}

export function PassesPage() {
  const [issued, setIssued] = useState<IssuedPass | null>(null);
  const [status, setStatus] = useState('');
  const statusId = useId();
  const def = useMemo<ResourceDef<Pass>>(
    () => ({
      title: 'Passes',
      singular: 'pass',
      path: '/api/admin/passes',
      read: 'passes:read',
      write: 'passes:issue',
      lookups: ['visitors', 'rules', 'appointments', 'hosts'],
      columns: [
        {
          label: 'Visitor',
          render: (p, l) => (
            <a href={href(`/passes/${p.id}`)}>
              <strong>{nameOf(l.visitors, p.visitorId)}</strong>
            </a>
          ),
        },
        { label: 'Rule', render: (p, l) => nameOf(l.rules, p.accessRuleId) },
        { label: 'Type', render: (p) => p.type },
        { label: 'Valid', render: (p) => `${fmtDateTime(p.validFrom)} – ${fmtDateTime(p.validTo)}` },
        { label: 'Status', render: (p) => <StatusBadge status={p.status} /> },
      ],
      fields: passFields,
      empty: {
        type: 'single',
        validFrom: toLocalInput(new Date().toISOString()),
        validTo: toLocalInput(new Date(Date.now() + 8 * 3600_000).toISOString()),
      },
      toBody: (v: Values) => ({
        visitorId: str(v.visitorId),
        accessRuleId: str(v.accessRuleId),
        type: str(v.type),
        validFrom: fromLocalInput(str(v.validFrom)),
        validTo: fromLocalInput(str(v.validTo)),
        ...(str(v.appointmentId) ? { appointmentId: str(v.appointmentId) } : {}),
        ...(str(v.maxUses) ? { maxUses: Number(v.maxUses) } : {}),
        ...(str(v.cardNumber) ? { card: { format: str(v.cardFormat), number: str(v.cardNumber) } } : {}),
      }),
      searchText: (p, l) => `${nameOf(l.visitors, p.visitorId)} ${nameOf(l.rules, p.accessRuleId)} ${p.status} ${p.type} ${p.id}`,
      rowActions: (p) => (
        <a className="btn" href={href(`/passes/${p.id}`)}>
          Details
        </a>
      ),
      query: { status },
      headActions: (
        <div className="field" style={{ margin: 0 }}>
          <label htmlFor={statusId} className="sr-only">
            Status
          </label>
          <select id={statusId} value={status} onChange={(e) => setStatus(e.target.value)}>
            <option value="">All statuses</option>
            <option value="active">Active</option>
            <option value="draft">Draft</option>
            <option value="revoked">Revoked</option>
            <option value="expired">Expired</option>
          </select>
        </div>
      ),
      emptyText: 'No passes. Issue one for a visitor and send them the guest link.',
      afterCreate: (p) => setIssued(p as IssuedPass),
    }),
    [status, statusId],
  );
  return (
    <>
      <ResourcePage def={def} />
      <GuestLinkDialog pass={issued} onClose={() => setIssued(null)} />
    </>
  );
}

/** The rotating code, fetched again as each step ends. */
function DynamicQr({ passId }: { passId: string }) {
  const [cred, setCred] = useState<Credential | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout>;
    let alive = true;
    const load = async () => {
      try {
        const c = await api.get<Credential>(`/api/admin/passes/${passId}/credential`, { kind: 'dynamic' });
        if (!alive) return;
        setCred(c);
        setError(null);
        timer = setTimeout(load, Math.max(500, new Date(c.expiresAt).getTime() - Date.now() + 200));
      } catch (e) {
        if (!alive) return;
        setError(e);
        if (!(e instanceof ApiError && e.status === 409)) timer = setTimeout(load, 5000);
      }
    };
    void load();
    const tick = setInterval(() => setNow(Date.now()), 1000);
    return () => {
      alive = false;
      clearTimeout(timer);
      clearInterval(tick);
    };
  }, [passId]);
  if (error) return <ErrorBox error={error} />;
  if (!cred) return <Loading />;
  return (
    <div className="qr-box">
      <Qr text={cred.payload} size={200} label="Dynamic QR code of the pass" />
      <span className="muted">Changes in {Math.max(0, Math.ceil((new Date(cred.expiresAt).getTime() - now) / 1000))} s</span>
    </div>
  );
}

function RevokeDialog({ pass, open, onClose, onDone }: { pass: Pass; open: boolean; onClose: () => void; onDone: () => void }) {
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const id = useId();
  const submit = async () => {
    if (!reason.trim()) {
      setError('Say why: it goes to the audit log and the guard sees it.');
      return;
    }
    setBusy(true);
    try {
      await api.post(`/api/admin/passes/${pass.id}/revoke`, { reason: reason.trim() });
      onDone();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog
      title="Revoke pass"
      open={open}
      onClose={onClose}
      footer={
        <>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="button" className="danger" onClick={submit} disabled={busy}>
            Revoke pass
          </button>
        </>
      }
    >
      <p>The gates refuse this pass as soon as they receive the change.</p>
      <Field id={id} label="Reason *" error={error}>
        <input id={id} value={reason} onChange={(e) => setReason(e.target.value)} aria-invalid={!!error} maxLength={500} />
      </Field>
    </Dialog>
  );
}

function CheckAtGate({ pass }: { pass: Pass }) {
  const { lookups } = useLookups(['gates']);
  const [gateId, setGateId] = useState('');
  const [result, setResult] = useState<{ allow: boolean; reason: string } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const id = useId();
  if (!can('passes:check')) return null;
  return (
    <div className="card">
      <h3>Would it open a gate now?</h3>
      <div className="toolbar">
        <div className="field">
          <label htmlFor={id}>Gate</label>
          <select id={id} value={gateId} onChange={(e) => setGateId(e.target.value)}>
            <option value="">Choose…</option>
            {[...(lookups.gates?.values() ?? [])].map((g) => (
              <option key={g.id} value={g.id}>
                {g.name}
              </option>
            ))}
          </select>
        </div>
        <button
          type="button"
          disabled={!gateId}
          onClick={async () => {
            setError(null);
            try {
              setResult(await api.post(`/api/admin/passes/${pass.id}/check`, { gateId }));
            } catch (e) {
              setError(e);
            }
          }}
        >
          Check
        </button>
      </div>
      <ErrorBox error={error} />
      {result ? (
        <p>
          {result.allow ? <Badge tone="ok">Allowed</Badge> : <Badge tone="deny">Denied</Badge>} {reasonText(result.reason)}
        </p>
      ) : null}
    </div>
  );
}

export function PassDetailPage({ id, print }: { id: string; print?: boolean }) {
  const pass = useAsync(() => api.get<Pass>(`/api/admin/passes/${id}`), [id]);
  const visitor = useAsync<Visitor | null>(
    async () => (pass.data ? ((await fetchLookup('visitors')).find((v) => v.id === pass.data?.visitorId) ?? null) : null),
    [pass.data?.visitorId],
  );
  const live = pass.data && (pass.data.status === 'active' || pass.data.status === 'draft');
  const staticCred = useAsync<Credential | null>(
    async () => (live ? api.get<Credential>(`/api/admin/passes/${id}/credential`, { kind: 'static' }) : null),
    [id, live],
  );
  const [revoking, setRevoking] = useState(false);

  if (pass.error) return <ErrorBox error={pass.error} />;
  if (!pass.data) return <Loading />;
  const p = pass.data;
  const name = visitor.data?.fullName ?? 'Visitor';

  if (print) {
    return (
      <>
        <PageHead title="Badge">
          <a className="btn" href={href(`/passes/${id}`)}>
            Back
          </a>
          <button type="button" className="primary" onClick={() => window.print()}>
            Print
          </button>
        </PageHead>
        <div className="badge-print">
          <div className="muted">VISITOR</div>
          <div className="name">{name}</div>
          {visitor.data?.company ? <div>{visitor.data.company}</div> : null}
          <div className="qr-box">
            {staticCred.data ? <Qr text={staticCred.data.payload} size={240} label="Printed QR code of the pass" /> : <Loading />}
          </div>
          <div className="muted">
            Valid {fmtDateTime(p.validFrom)} – {fmtDateTime(p.validTo)}
          </div>
        </div>
      </>
    );
  }

  return (
    <>
      <PageHead title={`Pass · ${name}`}>
        <a className="btn" href={href('/passes')}>
          All passes
        </a>
        {live ? (
          <a className="btn" href={href(`/passes/${id}/badge`)}>
            Print badge
          </a>
        ) : null}
        {live && can('passes:revoke') ? (
          <button type="button" className="danger" onClick={() => setRevoking(true)}>
            Revoke
          </button>
        ) : null}
      </PageHead>
      <div className="grid">
        <div className="card">
          <h2>Details</h2>
          <dl className="kv">
            <dt>Status</dt>
            <dd>
              <StatusBadge status={p.status} />
            </dd>
            <dt>Visitor</dt>
            <dd>{name}</dd>
            <dt>Type</dt>
            <dd>{p.type}</dd>
            <dt>Valid from</dt>
            <dd>{fmtDateTime(p.validFrom)}</dd>
            <dt>Valid to</dt>
            <dd>{fmtDateTime(p.validTo)}</dd>
            <dt>Max entries</dt>
            <dd>{p.maxUses ?? 'as the rule says'}</dd>
            <dt>Card</dt>
            <dd>{p.card ? `${p.card.format} ${p.card.number}` : '—'}</dd>
            {p.revokedAt ? (
              <>
                <dt>Revoked</dt>
                <dd>
                  {fmtDateTime(p.revokedAt)}: {p.revokedReason}
                </dd>
              </>
            ) : null}
            <dt>Pass id</dt>
            <dd className="mono">{p.id}</dd>
          </dl>
        </div>
        {live ? (
          <div className="card">
            <h2>Phone QR (rotating)</h2>
            <DynamicQr passId={id} />
          </div>
        ) : null}
        {live ? (
          <div className="card">
            <h2>Printed QR</h2>
            <div className="qr-box">
              {staticCred.error ? <ErrorBox error={staticCred.error} /> : null}
              {staticCred.data ? <Qr text={staticCred.data.payload} size={200} label="Static QR code of the pass" /> : <Loading />}
              <span className="muted">Signed; works at a gate even when it is offline.</span>
            </div>
          </div>
        ) : null}
        <CheckAtGate pass={p} />
      </div>
      <RevokeDialog
        pass={p}
        open={revoking}
        onClose={() => setRevoking(false)}
        onDone={() => {
          setRevoking(false);
          pass.reload();
        }}
      />
    </>
  );
}
