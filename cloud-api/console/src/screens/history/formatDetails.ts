const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

/** `reason: Drill · zoneId: …9d4b946e` — readable at a glance; ids shortened to their tail. */
export function formatDetails(data: Record<string, unknown> | null): string {
  if (!data) return '—';
  const val = (v: unknown): string =>
    v === null || v === undefined
      ? '—'
      : Array.isArray(v)
        ? `[${v.map(val).join(', ')}]`
        : typeof v === 'object'
          ? JSON.stringify(v)
          : String(v);
  return Object.entries(data)
    .map(([k, v]) => `${k}: ${val(v).replace(UUID, (id) => `…${id.slice(-8)}`)}`)
    .join(' · ');
}
