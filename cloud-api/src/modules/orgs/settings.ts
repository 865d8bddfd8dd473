/**
 * An organisation's journey settings (org_settings), with the defaults of an
 * organisation that never saved any: English, reminders 2 h before, no static
 * QR on the guest page, no Telegram bot, hosts not yet allowed to invite.
 */
import { eq } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import { type Language, organizations, orgSettings } from '../../db/schema.js';
import type { Sealer } from '../../lib/crypto.js';

export interface OrgSettings {
  orgId: string;
  orgName: string;
  logoUrl: string | null;
  brandColor: string | null;
  defaultLanguage: Language;
  reminderLeadMinutes: number;
  guestStaticQr: boolean;
  hostInviteRuleId: string | null;
  telegramBotUsername: string | null;
  /** Sealed; open with `telegramBotToken`. */
  telegramBotTokenEnc: string | null;
}

export const telegramTokenAad = (orgId: string) => `org_settings.telegram_bot_token:${orgId}`;

export async function getOrgSettings(db: Executor, orgId: string): Promise<OrgSettings> {
  const [row] = await db
    .select({ orgName: organizations.name, s: orgSettings })
    .from(organizations)
    .leftJoin(orgSettings, eq(orgSettings.orgId, organizations.id))
    .where(eq(organizations.id, orgId));
  if (!row) throw new Error(`no organisation ${orgId}`);
  const s = row.s;
  return {
    orgId,
    orgName: row.orgName,
    logoUrl: s?.logoUrl ?? null,
    brandColor: s?.brandColor ?? null,
    defaultLanguage: s?.defaultLanguage ?? 'en',
    reminderLeadMinutes: s?.reminderLeadMinutes ?? 120,
    guestStaticQr: s?.guestStaticQr ?? false,
    hostInviteRuleId: s?.hostInviteRuleId ?? null,
    telegramBotUsername: s?.telegramBotUsername ?? null,
    telegramBotTokenEnc: s?.telegramBotTokenEnc ?? null,
  };
}

export function telegramBotToken(sealer: Sealer, s: OrgSettings): string | null {
  return s.telegramBotTokenEnc ? sealer.open(s.telegramBotTokenEnc, telegramTokenAad(s.orgId)) : null;
}
