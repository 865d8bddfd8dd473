import { str } from '../../components/form.tsx';
import { type ResourceDef, ResourcePage } from '../../components/ResourcePage.tsx';
import { fmtDateTime } from '../../lib/format.ts';
import { PATHS } from '../../lib/query.ts';
import type { Site } from '../../lib/types.ts';

function timezones(): string[] {
  try {
    return Intl.supportedValuesOf('timeZone');
  } catch {
    return ['UTC', 'Europe/Moscow', 'Europe/Paris', 'Europe/London', 'America/New_York'];
  }
}

const sites: ResourceDef<Site> = {
  title: 'Sites',
  singular: 'site',
  path: PATHS.sites,
  read: 'sites:read',
  write: 'sites:write',
  columns: [
    { label: 'Name', render: (s) => <strong>{s.name}</strong> },
    { label: 'Time zone', render: (s) => s.timezone },
    { label: 'Created', render: (s) => fmtDateTime(s.createdAt) },
  ],
  fields: () => [
    { name: 'name', label: 'Name', kind: 'text', required: true, placeholder: 'Head office' },
    {
      name: 'timezone',
      label: 'Time zone',
      kind: 'select',
      required: true,
      hint: 'Access-rule hours are read in this zone.',
      options: () => timezones().map((z) => ({ value: z, label: z })),
    },
  ],
  empty: { name: '', timezone: Intl.DateTimeFormat().resolvedOptions().timeZone },
  toValues: (s) => ({ name: s.name, timezone: s.timezone }),
  toBody: (v) => ({ name: str(v.name), timezone: str(v.timezone) }),
  searchText: (s) => `${s.name} ${s.timezone}`,
  canEdit: true,
  canDelete: true,
  emptyText: 'No sites yet. A site is a building or campus with its own time zone.',
};

export const SitesPage = () => <ResourcePage def={sites} />;
