import { type ReactNode, useEffect, useState, useSyncExternalStore } from 'react';
import { Empty } from './components/ui.tsx';
import { logout } from './lib/api.ts';
import { isEmbedded, startEmbedListener } from './lib/embed.ts';
import { can, type Permission } from './lib/permissions.ts';
import { href, useRoute } from './lib/router.ts';
import { getSession, onSessionChange } from './lib/session.ts';
import { DashboardPage } from './screens/dashboard/DashboardPage.tsx';
import { GuardPage } from './screens/guard/GuardPage.tsx';
import { AuditPage } from './screens/history/AuditPage.tsx';
import { CheckinsPage } from './screens/history/CheckinsPage.tsx';
import { LoginPage } from './screens/login/LoginPage.tsx';
import { PassDetailPage } from './screens/passes/PassDetailPage.tsx';
import { PassesPage } from './screens/passes/PassesPage.tsx';
import { AppointmentsPage } from './screens/resources/AppointmentsPage.tsx';
import { GatesPage } from './screens/resources/GatesPage.tsx';
import { RulesPage } from './screens/resources/RulesPage.tsx';
import { SitesPage } from './screens/resources/SitesPage.tsx';
import { UsersPage } from './screens/resources/UsersPage.tsx';
import { VisitorsPage } from './screens/resources/VisitorsPage.tsx';
import { ZonesPage } from './screens/resources/ZonesPage.tsx';

interface NavItem {
  path: string;
  label: string;
  perm?: Permission;
  section?: string;
}

const NAV: NavItem[] = [
  { path: '/', label: 'Dashboard' },
  { path: '/guard', label: 'Guard view', perm: 'checkins:read' },
  { path: '/appointments', label: 'Appointments', perm: 'appointments:read', section: 'Visits' },
  { path: '/visitors', label: 'Visitors', perm: 'visitors:read' },
  { path: '/passes', label: 'Passes', perm: 'passes:read' },
  { path: '/checkins', label: 'Check-ins', perm: 'checkins:read' },
  { path: '/sites', label: 'Sites', perm: 'sites:read', section: 'Premises' },
  { path: '/zones', label: 'Zones', perm: 'zones:read' },
  { path: '/gates', label: 'Gates', perm: 'gates:read' },
  { path: '/rules', label: 'Access rules', perm: 'rules:read' },
  { path: '/users', label: 'Users and roles', perm: 'users:read', section: 'Administration' },
  { path: '/audit', label: 'Audit log', perm: 'audit:read' },
];

function screen(parts: string[]): ReactNode {
  const [a, b, c] = parts;
  switch (a) {
    case undefined:
      return <DashboardPage />;
    case 'guard':
      return <GuardPage />;
    case 'sites':
      return <SitesPage />;
    case 'zones':
      return <ZonesPage />;
    case 'gates':
      return <GatesPage />;
    case 'rules':
      return <RulesPage />;
    case 'users':
      return <UsersPage />;
    case 'visitors':
      return <VisitorsPage />;
    case 'appointments':
      return <AppointmentsPage />;
    case 'passes':
      return b ? <PassDetailPage key={b + (c ?? '')} id={b} print={c === 'badge'} /> : <PassesPage />;
    case 'checkins':
      return <CheckinsPage />;
    case 'audit':
      return <AuditPage />;
    default:
      return (
        <Empty>
          No such page. <a href={href('/')}>Go to the dashboard</a>.
        </Empty>
      );
  }
}

function Shell() {
  const route = useRoute();
  const [menuOpen, setMenuOpen] = useState(false);
  const session = getSession();
  const current = `/${route.parts[0] ?? ''}`;
  // biome-ignore lint/correctness/useExhaustiveDependencies: close the phone menu whenever the page changes
  useEffect(() => setMenuOpen(false), [route.path]);
  let section: string | undefined;
  return (
    <div className="shell">
      <button type="button" className="skip" onClick={() => document.getElementById('main')?.focus()}>
        Skip to content
      </button>
      <nav className={`nav${menuOpen ? ' open' : ''}`} aria-label="Main">
        <div className="nav-top">
          <div className="brand">
            <img src="/favicon.svg" alt="" width="22" height="22" /> Gatehouse
          </div>
          <button type="button" className="menu-toggle" aria-expanded={menuOpen} onClick={() => setMenuOpen((o) => !o)}>
            Menu
          </button>
        </div>
        <div className="nav-body">
          <ul>
            {NAV.filter((n) => !n.perm || can(n.perm)).map((n) => {
              const head = n.section && n.section !== section ? n.section : null;
              if (n.section) section = n.section;
              return (
                <li key={n.path}>
                  {head ? <div className="section">{head}</div> : null}
                  <a href={href(n.path)} aria-current={current === n.path ? 'page' : undefined}>
                    {n.label}
                  </a>
                </li>
              );
            })}
          </ul>
          <div className="nav-foot">
            <div>{session?.user.email}</div>
            <div>{session?.user.roles.join(', ')}</div>
            {isEmbedded() ? null : (
              <button type="button" onClick={() => void logout()}>
                Sign out
              </button>
            )}
          </div>
        </div>
      </nav>
      <main id="main" tabIndex={-1}>
        {screen(route.parts)}
      </main>
    </div>
  );
}

const subscribe = (fn: () => void) => onSessionChange(fn);

export function App() {
  const session = useSyncExternalStore(subscribe, getSession);
  const [embedStatus, setEmbedStatus] = useState<string | null>(isEmbedded() ? 'loading' : null);
  useEffect(() => (isEmbedded() ? startEmbedListener(setEmbedStatus) : undefined), []);
  // A different user never sees the previous one's cached data: lib/query.ts drops it when the session changes hands.
  if (!session || !session.user.id) {
    const notice =
      embedStatus === 'waiting'
        ? 'Waiting for the host panel to sign you in…'
        : embedStatus === 'rejected'
          ? 'The host panel’s sign-in was not accepted.'
          : undefined;
    return <LoginPage notice={notice} />;
  }
  return <Shell key={session.user.id} />;
}
