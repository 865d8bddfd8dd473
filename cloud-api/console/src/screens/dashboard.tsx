import { Badge, Empty, ErrorBox, Loading, PageHead } from '../components/ui.tsx';
import { api, getAll } from '../lib/api.ts';
import { ago, fmtTime } from '../lib/format.ts';
import { useAsync } from '../lib/hooks.ts';
import { fetchLookup, nameOf } from '../lib/lookups.ts';
import { can } from '../lib/permissions.ts';
import { href } from '../lib/router.ts';
import type { Checkin, Gate, Occupancy, Site } from '../lib/types.ts';

const HOURS = 24;

interface Bucket {
  start: number;
  allowed: number;
  denied: number;
}

export function bucketByHour(checkins: Checkin[], now: number): Bucket[] {
  const top = Math.floor(now / 3600_000) * 3600_000;
  const buckets: Bucket[] = Array.from({ length: HOURS }, (_, i) => ({ start: top - (HOURS - 1 - i) * 3600_000, allowed: 0, denied: 0 }));
  for (const c of checkins) {
    const t = new Date(c.occurredAt).getTime();
    const i = HOURS - 1 - Math.floor((top - Math.floor(t / 3600_000) * 3600_000) / 3600_000);
    const b = buckets[i];
    if (!b) continue;
    if (c.allow) b.allowed++;
    else b.denied++;
  }
  return buckets;
}

/** Entries per hour as plain SVG: bars of allowed entries with denied ones stacked on top in red. */
function HourChart({ buckets }: { buckets: Bucket[] }) {
  const W = 720;
  const H = 180;
  const padL = 28;
  const padB = 20;
  const padT = 10;
  const max = Math.max(4, ...buckets.map((b) => b.allowed + b.denied));
  const step = (W - padL) / buckets.length;
  const y = (v: number) => ((H - padB - padT) * v) / max;
  const ticks = [0, Math.round(max / 2), max];
  const total = buckets.reduce((s, b) => s + b.allowed + b.denied, 0);
  return (
    <figure className="chart" style={{ margin: 0 }}>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`Entries per hour over the last 24 hours, ${total} in total`}>
        {ticks.map((t) => (
          <g key={t}>
            <line className="gridline" x1={padL} x2={W} y1={H - padB - y(t)} y2={H - padB - y(t)} />
            <text className="axis" x={padL - 4} y={H - padB - y(t) + 3} textAnchor="end">
              {t}
            </text>
          </g>
        ))}
        {buckets.map((b, i) => {
          const x = padL + i * step + 2;
          const w = Math.max(2, step - 4);
          const hour = new Date(b.start).getHours();
          return (
            <g key={b.start}>
              <title>{`${String(hour).padStart(2, '0')}:00 — ${b.allowed} allowed, ${b.denied} denied`}</title>
              <rect className="bar" x={x} width={w} y={H - padB - y(b.allowed)} height={y(b.allowed)} />
              <rect className="bar-deny" x={x} width={w} y={H - padB - y(b.allowed + b.denied)} height={y(b.denied)} />
              {i % 3 === 0 ? (
                <text className="axis" x={x + w / 2} y={H - 6} textAnchor="middle">
                  {String(hour).padStart(2, '0')}
                </text>
              ) : null}
            </g>
          );
        })}
      </svg>
      <figcaption className="muted">
        Last 24 hours · <span className="badge ok">allowed</span> <span className="badge deny">denied</span>
      </figcaption>
    </figure>
  );
}

interface DashboardData {
  sites: Site[];
  gates: Gate[];
  checkins: Checkin[];
  occupancy: Occupancy[];
}

async function loadDashboard(): Promise<DashboardData> {
  const since = new Date(Date.now() - HOURS * 3600_000).toISOString();
  const [sites, gates, checkins] = await Promise.all([
    fetchLookup('sites'),
    can('gates:read') ? getAll<Gate>('/api/admin/gates', {}, 2000) : Promise.resolve([]),
    can('checkins:read') ? getAll<Checkin>('/api/admin/checkins', { since }, 5000) : Promise.resolve([]),
  ]);
  const occupancy = can('checkins:read')
    ? await Promise.all(sites.slice(0, 20).map((s) => api.get<Occupancy>(`/api/admin/sites/${s.id}/occupancy`)))
    : [];
  return { sites, gates, checkins, occupancy };
}

export function DashboardPage() {
  const { data, error, loading, reload } = useAsync(loadDashboard, []);
  if (error && !data) return <ErrorBox error={error} />;
  if (loading && !data) return <Loading label="Loading the dashboard…" />;
  if (!data) return null;
  const now = Date.now();
  const online = data.gates.filter((g) => g.online).length;
  const offline = data.gates.length - online;
  const allowed = data.checkins.filter((c) => c.allow).length;
  const denied = data.checkins.length - allowed;
  const onSite = data.occupancy.reduce((s, o) => s + o.count, 0);
  const siteById = new Map(data.sites.map((s) => [s.id, s]));
  const gateById = new Map(data.gates.map((g) => [g.id, g]));
  const offlineGates = data.gates.filter((g) => !g.online);

  return (
    <>
      <PageHead title="Dashboard">
        <button type="button" onClick={reload} disabled={loading}>
          {loading ? 'Refreshing…' : 'Refresh'}
        </button>
      </PageHead>
      <ErrorBox error={error} />
      <div className="stats">
        <div className="card stat">
          <div className="value">{data.sites.length}</div>
          <div className="label">Sites</div>
        </div>
        <div className="card stat">
          <div className="value">
            {online}
            <span className="muted"> / {data.gates.length}</span>
          </div>
          <div className="label">Gates online</div>
        </div>
        <div className="card stat">
          <div className="value" data-testid="on-site">
            {onSite}
          </div>
          <div className="label">On site now</div>
        </div>
        <div className="card stat">
          <div className="value">{allowed}</div>
          <div className="label">Entries, 24 h</div>
        </div>
        <div className="card stat">
          <div className="value">{denied}</div>
          <div className="label">Denied, 24 h</div>
        </div>
      </div>
      {data.sites.length === 0 ? (
        <div className="card">
          <Empty>
            Nothing here yet. Start by <a href={href('/sites')}>creating a site</a>, then its zones and gates.
          </Empty>
        </div>
      ) : (
        <div className="grid">
          <section className="card" style={{ gridColumn: '1 / -1' }} aria-labelledby="chart-h">
            <h2 id="chart-h">Entries per hour</h2>
            <HourChart buckets={bucketByHour(data.checkins, now)} />
          </section>
          <section className="card" aria-labelledby="onsite-h">
            <h2 id="onsite-h">Who is on site</h2>
            {data.occupancy.every((o) => o.count === 0) ? (
              <p className="muted">Nobody has entered and not left.</p>
            ) : (
              data.occupancy
                .filter((o) => o.count > 0)
                .map((o) => (
                  <div key={o.siteId}>
                    <h3>
                      {nameOf(siteById as Map<string, Site>, o.siteId)} · {o.count}
                    </h3>
                    <table>
                      <tbody>
                        {o.items.map((p) => (
                          <tr key={p.passId}>
                            <td>
                              <a href={href(`/passes/${p.passId}`)}>{p.visitorName ?? 'Unknown visitor'}</a>
                            </td>
                            <td className="muted">{gateById.get(p.gateId)?.name ?? '—'}</td>
                            <td className="muted nowrap">since {fmtTime(p.since)}</td>
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  </div>
                ))
            )}
          </section>
          <section className="card" aria-labelledby="gates-h">
            <h2 id="gates-h">Gates</h2>
            {data.gates.length === 0 ? (
              <p className="muted">
                No gates. <a href={href('/gates')}>Add one</a>.
              </p>
            ) : (
              <>
                <p>
                  <Badge tone="ok">{online} online</Badge> <Badge tone={offline ? 'deny' : 'neutral'}>{offline} offline</Badge>
                </p>
                {offlineGates.length > 0 ? (
                  <table>
                    <tbody>
                      {offlineGates.slice(0, 10).map((g) => (
                        <tr key={g.id}>
                          <td>{g.name}</td>
                          <td className="muted">{siteById.get(g.siteId)?.name ?? ''}</td>
                          <td className="muted nowrap">{g.lastSeenAt ? `seen ${ago(g.lastSeenAt, now)}` : 'never seen'}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                ) : null}
              </>
            )}
          </section>
          <section className="card" aria-labelledby="sites-h">
            <h2 id="sites-h">Sites</h2>
            <table>
              <tbody>
                {data.sites.map((s) => {
                  const gs = data.gates.filter((g) => g.siteId === s.id);
                  return (
                    <tr key={s.id}>
                      <td>
                        <a href={href(`/guard?site=${s.id}`)}>{s.name}</a>
                      </td>
                      <td className="muted">{s.timezone}</td>
                      <td className="num">
                        {gs.filter((g) => g.online).length}/{gs.length} gates
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </section>
        </div>
      )}
    </>
  );
}
