import { type ReactNode, useEffect, useState, useSyncExternalStore } from 'react';
import { Trans, useTranslation } from 'react-i18next';
import { DependencyBanner } from './components/DependencyBanner.tsx';
import { LanguageSwitcher } from './components/LanguageSwitcher.tsx';
import { Empty, TextLink } from './components/ui.tsx';
import { logout } from './lib/api.ts';
import { isEmbedded, startEmbedListener } from './lib/embed.ts';
import { can, type Permission } from './lib/permissions.ts';
import { roleName } from './lib/roles.ts';
import { href, useRoute } from './lib/router.ts';
import { getSession, onSessionChange } from './lib/session.ts';
import { AlarmsPage } from './screens/alarms/AlarmsPage.tsx';
import { DashboardPage } from './screens/dashboard/DashboardPage.tsx';
import { DevConsolePage } from './screens/devconsole/DevConsolePage.tsx';
import { FleetPage } from './screens/fleet/FleetPage.tsx';
import { GuardPage } from './screens/guard/GuardPage.tsx';
import { AuditPage } from './screens/history/AuditPage.tsx';
import { CheckinsPage } from './screens/history/CheckinsPage.tsx';
import { HolidaysPage } from './screens/holidays/HolidaysPage.tsx';
import { HostPage } from './screens/host/HostPage.tsx';
import { JobsPage } from './screens/jobs/JobsPage.tsx';
import { LoginPage } from './screens/login/LoginPage.tsx';
import { MessagesPage } from './screens/messages/MessagesPage.tsx';
import { MusterPage } from './screens/muster/MusterPage.tsx';
import { PassDetailPage } from './screens/passes/PassDetailPage.tsx';
import { PassesPage } from './screens/passes/PassesPage.tsx';
import { AppointmentsPage } from './screens/resources/AppointmentsPage.tsx';
import { GatesPage } from './screens/resources/GatesPage.tsx';
import { RulesPage } from './screens/resources/RulesPage.tsx';
import { SitesPage } from './screens/resources/SitesPage.tsx';
import { UsersPage } from './screens/resources/UsersPage.tsx';
import { VisitorsPage } from './screens/resources/VisitorsPage.tsx';
import { ZonesPage } from './screens/resources/ZonesPage.tsx';
import { OrgSettingsPage } from './screens/settings/OrgSettingsPage.tsx';
import { UpdatesPage } from './screens/updates/UpdatesPage.tsx';

type NavKey =
  | 'dashboard'
  | 'guard'
  | 'alarms'
  | 'muster'
  | 'appointments'
  | 'visitors'
  | 'passes'
  | 'checkins'
  | 'host'
  | 'sites'
  | 'zones'
  | 'gates'
  | 'fleet'
  | 'updates'
  | 'rules'
  | 'holidays'
  | 'users'
  | 'audit'
  | 'jobs'
  | 'messages'
  | 'settings'
  | 'devconsole';
type SectionKey = 'visits' | 'premises' | 'administration' | 'developers';

interface NavItem {
  path: string;
  label: NavKey;
  perm?: Permission;
  section?: SectionKey;
}

const NAV: NavItem[] = [
  { path: '/', label: 'dashboard' },
  { path: '/guard', label: 'guard', perm: 'checkins:read' },
  { path: '/alarms', label: 'alarms', perm: 'alarms:read' },
  { path: '/muster', label: 'muster', perm: 'muster:read' },
  { path: '/appointments', label: 'appointments', perm: 'appointments:read', section: 'visits' },
  { path: '/visitors', label: 'visitors', perm: 'visitors:read' },
  { path: '/passes', label: 'passes', perm: 'passes:read' },
  { path: '/checkins', label: 'checkins', perm: 'checkins:read' },
  { path: '/host', label: 'host', perm: 'host:portal' },
  { path: '/sites', label: 'sites', perm: 'sites:read', section: 'premises' },
  { path: '/zones', label: 'zones', perm: 'zones:read' },
  { path: '/gates', label: 'gates', perm: 'gates:read' },
  { path: '/fleet', label: 'fleet', perm: 'gates:read' },
  { path: '/updates', label: 'updates', perm: 'updates:read' },
  { path: '/rules', label: 'rules', perm: 'rules:read' },
  { path: '/holidays', label: 'holidays', perm: 'rules:read' },
  { path: '/users', label: 'users', perm: 'users:read', section: 'administration' },
  { path: '/audit', label: 'audit', perm: 'audit:read' },
  { path: '/jobs', label: 'jobs', perm: 'jobs:read' },
  { path: '/messages', label: 'messages', perm: 'notifications:read' },
  { path: '/settings', label: 'settings', perm: 'org:settings' },
  { path: '/devconsole', label: 'devconsole', perm: 'devconsole:manage', section: 'developers' },
];

function NotFound() {
  const { t } = useTranslation('nav');
  return (
    <Empty>
      <Trans t={t} i18nKey="notFound" components={{ link: <TextLink href={href('/')} /> }} />
    </Empty>
  );
}

/** A host who books only their own meetings starts on their visits, not on the organisation's dashboard. */
const hostLanding = () => can('host:portal') && !can('appointments:any');

function screen(parts: string[]): ReactNode {
  const [a, b, c] = parts;
  switch (a) {
    case undefined:
      return hostLanding() ? <HostPage /> : <DashboardPage />;
    case 'host':
      return <HostPage />;
    case 'guard':
      return <GuardPage />;
    case 'alarms':
      return can('alarms:read') ? <AlarmsPage /> : <NotFound />;
    case 'sites':
      return <SitesPage />;
    case 'zones':
      return <ZonesPage />;
    case 'gates':
      return <GatesPage />;
    case 'fleet':
      return can('gates:read') ? <FleetPage /> : <NotFound />;
    case 'updates':
      return can('updates:read') ? <UpdatesPage key={b ?? ''} id={b} /> : <NotFound />;
    case 'rules':
      return <RulesPage />;
    case 'holidays':
      return can('rules:read') ? <HolidaysPage /> : <NotFound />;
    case 'muster':
      return can('muster:read') ? <MusterPage /> : <NotFound />;
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
    case 'jobs':
      return <JobsPage />;
    case 'messages':
      return <MessagesPage key={b ?? ''} tab={b} id={c} />;
    case 'settings':
      return <OrgSettingsPage />;
    case 'devconsole':
      return can('devconsole:manage') ? <DevConsolePage parts={parts.slice(1)} /> : <NotFound />;
    default:
      return <NotFound />;
  }
}

function Shell() {
  const { t } = useTranslation('nav');
  const route = useRoute();
  const [menuOpen, setMenuOpen] = useState(false);
  const session = getSession();
  const current = route.parts[0] ? `/${route.parts[0]}` : hostLanding() ? '/host' : '/';
  // biome-ignore lint/correctness/useExhaustiveDependencies: close the phone menu whenever the page changes
  useEffect(() => setMenuOpen(false), [route.path]);
  let section: SectionKey | undefined;
  return (
    <div className="shell">
      <button type="button" className="skip" onClick={() => document.getElementById('main')?.focus()}>
        {t('skip')}
      </button>
      <nav className={`nav${menuOpen ? ' open' : ''}`} aria-label={t('main')}>
        <div className="nav-top">
          <div className="brand">
            <img src="/favicon.svg" alt="" width="22" height="22" /> Gatehouse
          </div>
          <LanguageSwitcher />
          <button type="button" className="menu-toggle" aria-expanded={menuOpen} onClick={() => setMenuOpen((o) => !o)}>
            {t('menu')}
          </button>
        </div>
        <div className="nav-body">
          <ul>
            {NAV.filter((n) => (!n.perm || can(n.perm)) && !(n.path === '/' && hostLanding())).map((n) => {
              const head = n.section && n.section !== section ? n.section : null;
              if (n.section) section = n.section;
              return (
                <li key={n.path}>
                  {head ? <div className="section">{t(`section.${head}`)}</div> : null}
                  <a href={href(n.path)} aria-current={current === n.path ? 'page' : undefined}>
                    {t(`item.${n.label}`)}
                  </a>
                </li>
              );
            })}
          </ul>
          <div className="nav-foot">
            <div>{session?.user.email}</div>
            <div>{session?.user.roles.map((r) => roleName(r)).join(', ')}</div>
            {isEmbedded() ? null : (
              <button type="button" onClick={() => void logout()}>
                {t('signOut')}
              </button>
            )}
          </div>
        </div>
      </nav>
      <main id="main" tabIndex={-1}>
        <DependencyBanner />
        {screen(route.parts)}
      </main>
    </div>
  );
}

const subscribe = (fn: () => void) => onSessionChange(fn);

export function App() {
  const { t } = useTranslation('nav');
  const session = useSyncExternalStore(subscribe, getSession);
  const [embedStatus, setEmbedStatus] = useState<string | null>(isEmbedded() ? 'loading' : null);
  useEffect(() => (isEmbedded() ? startEmbedListener(setEmbedStatus) : undefined), []);
  // A different user never sees the previous one's cached data: lib/query.ts drops it when the session changes hands.
  if (!session || !session.user.id) {
    const notice = embedStatus === 'waiting' ? t('embed.waiting') : embedStatus === 'rejected' ? t('embed.rejected') : undefined;
    return <LoginPage notice={notice} />;
  }
  return <Shell key={session.user.id} />;
}
