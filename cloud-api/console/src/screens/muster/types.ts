/**
 * The muster report as GET /api/admin/muster answers it. Said here until the
 * presence module's schema is exported through `@gatehouse/cloud-api/api`
 * (then these become re-exports, like lib/types.ts).
 */
export type SiteMode = 'normal' | 'lockdown' | 'emergency';

export interface MusterZone {
  /** null: people whose entry gate is gone. */
  zoneId: string | null;
  zoneName: string | null;
  count: number;
}

export interface MusterSite {
  siteId: string;
  siteName: string;
  mode: SiteMode;
  total: number;
  zones: MusterZone[];
}

export interface MusterItem {
  passId: string;
  /** null for a reader without visitors:read (the muster still counts them). */
  visitorName: string | null;
  company: string | null;
  hostName: string | null;
  passType: 'single' | 'multi' | 'group';
  people: number;
  siteId: string;
  zoneId: string | null;
  zoneName: string | null;
  gateId: string | null;
  gateName: string | null;
  since: string;
}

export interface Muster {
  generatedAt: string;
  sites: MusterSite[];
  items: MusterItem[];
}

export const MUSTER_PATH = '/api/admin/muster';
