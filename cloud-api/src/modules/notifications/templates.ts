/**
 * Message templates: a subject and a plain-text body with {{placeholders}}
 * (a blank line separates paragraphs). The defaults ship in
 * `locales/<language>/templates.json`; an organisation may override any
 * (key, language) in `notification_templates`.
 *
 * Rendering uses Mustache, chosen over Handlebars on purpose: templates are
 * written by organisation admins, and Mustache is logic-less (no helpers, no
 * code, no prototype access), so a template can only place the variables it
 * is given; its parser also lets us name an unknown placeholder before a
 * template is saved. The HTML e-mail escapes everything (the admin's own
 * words as well as the variables, since both are untrusted in HTML) paragraph
 * by paragraph, and places it inside the branded layout.
 */
import { and, eq } from 'drizzle-orm';
import Mustache from 'mustache';
import type { Executor } from '../../db/client.js';
import { type Language, notificationTemplates } from '../../db/schema.js';
import { unprocessable } from '../../lib/errors.js';
import { translator } from '../../lib/i18n.js';
import { TEMPLATE_KEYS, type TemplateKey } from './outbox.js';

const VISIT = ['visitorName', 'hostName', 'orgName', 'when', 'until', 'siteName', 'siteAddress', 'room', 'guestUrl'] as const;

/**
 * The variables each template may use (what the code that sends it fills in). `orgName` is always
 * there (the sender adds it); optional ones (siteAddress, room, reason) are empty when unknown, so a
 * template wraps them in a section: `{{#room}}Room: {{room}}{{/room}}`.
 */
export const TEMPLATE_VARIABLES: Record<TemplateKey, readonly string[]> = {
  /** visitorName, hostName, when (start, long date), until (end time), siteName, siteAddress?, room?, guestUrl. */
  invitation: VISIT,
  invitation_update: VISIT,
  invitation_cancelled: VISIT,
  reminder: VISIT,
  /** The visit's variables, and reason? (the admin's free text). */
  pass_revoked: [...VISIT, 'reason'],
  /** code: the one-time code; minutes: how long it works; visitorName of the pass. */
  guest_code: ['code', 'minutes', 'visitorName', 'orgName'],
  /** To the host: gateName the gate passed, when the time of the passage. */
  arrival: ['visitorName', 'gateName', 'siteName', 'when', 'orgName'],
  test: ['orgName'],
  /** appName: the application; url: the endpoint's URL; since: when its failures began; days: how long they lasted. */
  webhook_disabled: ['appName', 'url', 'since', 'days', 'orgName'],
};

export interface TemplateText {
  subject: string;
  body: string;
}

export interface Branding {
  orgName: string;
  logoUrl: string | null;
  brandColor: string | null;
}

export interface RenderedText {
  subject: string;
  text: string;
  html: string;
}

export const isTemplateKey = (k: string): k is TemplateKey => (TEMPLATE_KEYS as readonly string[]).includes(k);

/** The shipped wording (locales/<language>/templates.json), placeholders untouched. */
export function defaultTemplate(key: TemplateKey, lang: Language): TemplateText {
  const t = translator(lang, 'templates');
  return {
    subject: t(`${key}.subject`, { skipInterpolation: true }),
    body: t(`${key}.body`, { skipInterpolation: true }),
  };
}

/** The organisation's wording when it has one, else the default. */
export async function effectiveTemplate(
  db: Executor,
  orgId: string,
  key: TemplateKey,
  lang: Language,
): Promise<TemplateText & { customised: boolean }> {
  const [row] = await db
    .select({ subject: notificationTemplates.subject, body: notificationTemplates.body })
    .from(notificationTemplates)
    .where(and(eq(notificationTemplates.orgId, orgId), eq(notificationTemplates.key, key), eq(notificationTemplates.language, lang)));
  return row ? { ...row, customised: true } : { ...defaultTemplate(key, lang), customised: false };
}

/** Example values for the preview, in the language. */
export function sampleVars(lang: Language): Record<string, string> {
  const t = translator(lang, 'templates');
  const sample = t('sample', { returnObjects: true, skipInterpolation: true }) as unknown;
  return sample && typeof sample === 'object' ? { ...(sample as Record<string, string>) } : {};
}

/**
 * Throws 422 naming the first placeholder `key` does not know, or a construct templates may not use
 * (partials, delimiter changes) — before anything is saved.
 */
export function checkTemplate(key: TemplateKey, field: 'subject' | 'body', text: string): void {
  let tokens: unknown[];
  try {
    tokens = Mustache.parse(text);
  } catch (err) {
    throw unprocessable(`${field}: ${(err as Error).message}`);
  }
  const known = new Set(TEMPLATE_VARIABLES[key]);
  const walk = (list: unknown[]) => {
    for (const tok of list as Array<[string, string, number, number, unknown[]?]>) {
      const [type, name, , , children] = tok;
      if (type === 'text') continue;
      if (type === '>' || type === '=') throw unprocessable(`${field}: partials and delimiter changes are not allowed in templates`);
      if (type === 'name' || type === '&' || type === '{' || type === '#' || type === '^') {
        if (!known.has(name))
          throw unprocessable(`${field}: unknown placeholder {{${name}}}; ${key} knows ${[...known].map((v) => `{{${v}}}`).join(', ')}`);
      }
      if (Array.isArray(children)) walk(children);
    }
  };
  walk(tokens);
}

/** Plain text: placeholders filled, nothing escaped (it is not HTML). */
function fill(template: string, vars: Record<string, string>): string {
  return Mustache.render(template, vars, {}, { escape: (v: unknown) => String(v) });
}

/**
 * HTML escaping of text and quoted attribute values: the five characters that matter there. (Mustache's own
 * escaper also encodes `/`, `=` and backticks, which only makes links unreadable in the source.)
 */
const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);

const URL_RE = /\bhttps?:\/\/[^\s<>"']+/g;

/** One paragraph as HTML: escaped, line breaks kept, web links clickable. */
function paragraphHtml(p: string): string {
  let out = '';
  let last = 0;
  for (const m of p.matchAll(URL_RE)) {
    out += escapeHtml(p.slice(last, m.index));
    const url = escapeHtml(m[0]);
    out += `<a href="${url}">${url}</a>`;
    last = m.index + m[0].length;
  }
  out += escapeHtml(p.slice(last));
  return `<p><font face="${FONT}" color="#1f2328">${out.replace(/\n/g, '<br>')}</font></p>`;
}

const DEFAULT_COLOR = '#1f6feb';
const FONT = 'Segoe UI, Roboto, Helvetica, Arial, sans-serif';
const safeColor = (c: string | null) => (c && /^#[0-9a-fA-F]{6}$/.test(c) ? c : DEFAULT_COLOR);

/**
 * The branded layout in presentational HTML (bgcolor, width, cellpadding, <font>), with no style
 * attribute: mail clients render it as well as CSS, and so does the console's preview, whose strict
 * CSP (style-src 'self', inherited by a srcdoc frame) blocks inline styles.
 */
function layout(subject: string, paragraphs: string[], footer: string, b: Branding, lang: Language): string {
  const e = escapeHtml;
  const color = safeColor(b.brandColor);
  // Only an https logo (org settings accept nothing else), escaped like any attribute.
  const logo =
    b.logoUrl && /^https:\/\//.test(b.logoUrl) ? `<img src="${e(b.logoUrl)}" alt="${e(b.orgName)}" height="40" border="0"><br>` : '';
  return `<!doctype html>
<html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${e(subject)}</title></head>
<body bgcolor="#f4f5f7">
<table role="presentation" width="100%" cellpadding="12" cellspacing="0" border="0" bgcolor="#f4f5f7"><tr><td align="center">
<table role="presentation" width="600" cellpadding="0" cellspacing="0" border="0" bgcolor="#ffffff">
<tr><td bgcolor="${color}" height="4"></td></tr>
<tr><td><table role="presentation" width="100%" cellpadding="24" cellspacing="0" border="0"><tr><td>${logo}<font face="${FONT}" size="4" color="${color}"><b>${e(b.orgName)}</b></font></td></tr></table></td></tr>
<tr><td><table role="presentation" width="100%" cellpadding="24" cellspacing="0" border="0"><tr><td>
${paragraphs.join('\n')}
</td></tr></table></td></tr>
<tr><td><table role="presentation" width="100%" cellpadding="24" cellspacing="0" border="0"><tr><td><font face="${FONT}" size="2" color="#6b7280">${e(footer)}</font></td></tr></table></td></tr>
</table></td></tr></table>
</body></html>`;
}

/** The finished message: subject and text filled, the HTML e-mail escaped inside the organisation's layout. */
export function renderTemplate(tpl: TemplateText, vars: Record<string, string>, b: Branding, lang: Language): RenderedText {
  const all = { ...vars, orgName: b.orgName };
  // A subject is one line whatever the variables hold.
  const subject = fill(tpl.subject, all).replace(/\s+/g, ' ').trim();
  const text = fill(tpl.body, all)
    .replace(/\r\n?/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  const paragraphs = text
    .split(/\n\s*\n/)
    .map((p) => p.trim())
    .filter(Boolean)
    .map(paragraphHtml);
  const footer = fill(translator(lang, 'templates')('layout.footer', { skipInterpolation: true }), all);
  return { subject, text, html: layout(subject, paragraphs, footer, b, lang) };
}
