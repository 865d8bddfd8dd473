/** Every reason a decision can carry (CONTRACT.md "Reasons"). */
export const REASONS = [
  'ok',
  'unknown',
  'malformed',
  'bad_signature',
  'bad_code',
  'replay',
  'not_yet_valid',
  'expired',
  'revoked',
  'outside_schedule',
  'wrong_zone',
  'wrong_site',
  'used_up',
  'passback',
  'lockdown',
  'manual',
  'holiday',
  'escort_required',
] as const;
export type Reason = (typeof REASONS)[number];

/** Plain words for guards; the console and the edge's status page use these. */
export const REASON_TEXT: Record<Reason, string> = {
  ok: 'Allowed',
  unknown: 'Unknown pass or card',
  malformed: 'Unreadable code',
  bad_signature: 'Forged or damaged QR code',
  bad_code: 'Wrong or stale QR code',
  replay: 'QR code already used (screenshot?)',
  not_yet_valid: 'Pass not valid yet',
  expired: 'Pass expired',
  revoked: 'Pass revoked',
  outside_schedule: 'Outside allowed hours',
  wrong_zone: 'Not allowed in this zone',
  wrong_site: 'Badge not issued for this site',
  used_up: 'Pass already used up',
  passback: 'Already inside (anti-passback)',
  lockdown: 'Gate in lockdown',
  manual: 'Opened manually',
  holiday: 'Site closed today (holiday or special hours)',
  escort_required: 'Escort required: a staff card or host pass must be shown at this gate',
};
