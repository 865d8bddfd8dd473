/** The message log, its retries and test messages, and the organisation's templates. */
import { uuidv7 } from '@gatehouse/protocol';
import { and, desc, eq, lt } from 'drizzle-orm';
import type { AppContext } from '../../context.js';
import { type Channel, LANGUAGES, type Language, type NotificationStatus, notifications, notificationTemplates } from '../../db/schema.js';
import { type Actor, writeAudit } from '../../lib/audit.js';
import { conflict, notFound } from '../../lib/errors.js';
import { decodeCursor, page, pageLimit } from '../../lib/pagination.js';
import { getOrgSettings } from '../orgs/settings.js';
import { maskRecipient, NOTIFY_QUEUE, notify, TEMPLATE_KEYS, type TemplateKey } from './outbox.js';
import { checkTemplate, defaultTemplate, effectiveTemplate, renderTemplate, sampleVars, TEMPLATE_VARIABLES } from './templates.js';

type Row = typeof notifications.$inferSelect;

const view = (r: Row) => ({
  id: r.id,
  channel: r.channel,
  template: r.template,
  language: r.language,
  to: r.recipientMasked,
  status: r.status,
  attempts: r.attempts,
  ...(r.lastError ? { error: r.lastError } : {}),
  passId: r.passId,
  appointmentId: r.appointmentId,
  createdAt: r.createdAt.toISOString(),
  ...(r.sentAt ? { sentAt: r.sentAt.toISOString() } : {}),
});

export async function listNotifications(
  ctx: AppContext,
  orgId: string,
  q: { limit?: number; cursor?: string; status?: NotificationStatus; channel?: Channel; passId?: string; appointmentId?: string },
) {
  const limit = q.limit ?? 50;
  const cursor = decodeCursor(q.cursor);
  const rows = await ctx.db
    .select()
    .from(notifications)
    .where(
      and(
        eq(notifications.orgId, orgId),
        q.status ? eq(notifications.status, q.status) : undefined,
        q.channel ? eq(notifications.channel, q.channel) : undefined,
        q.passId ? eq(notifications.passId, q.passId) : undefined,
        q.appointmentId ? eq(notifications.appointmentId, q.appointmentId) : undefined,
        cursor ? lt(notifications.id, cursor) : undefined,
      ),
    )
    .orderBy(desc(notifications.id))
    .limit(pageLimit(limit + 1));
  return page(rows.map(view), limit);
}

/** Queues a failed or dead message again: a new job, the attempts keep counting. */
export async function retryNotification(ctx: AppContext, actor: Actor, id: string) {
  return ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .select()
      .from(notifications)
      .where(and(eq(notifications.id, id), eq(notifications.orgId, actor.orgId)))
      .for('update');
    if (!row) throw notFound('notification');
    if (row.status === 'sent') throw conflict('the message was sent already');
    if (row.status === 'queued') throw conflict('the message is queued already');
    // A failed message still has a job waiting to retry: that one is replaced, so it is not sent twice.
    if (row.status === 'failed' && row.jobId) await ctx.jobs.cancel(NOTIFY_QUEUE, row.jobId, tx);
    const jobId = await ctx.jobs.send(NOTIFY_QUEUE, { orgId: row.orgId, id: row.id }, { tx });
    const [updated] = await tx
      .update(notifications)
      .set({ status: 'queued', jobId, updatedAt: new Date(), updatedBy: actor.userId })
      .where(and(eq(notifications.id, id), eq(notifications.orgId, actor.orgId)))
      .returning();
    await writeAudit(tx, actor, {
      action: 'notification.retry',
      entityType: 'notification',
      entityId: id,
      data: { channel: row.channel, template: row.template, from: row.status, attempts: row.attempts },
    });
    return view(updated!);
  });
}

/** A `test` message to any address, from the console. */
export async function sendTest(ctx: AppContext, actor: Actor, body: { channel: Channel; to: string; language?: Language }) {
  const settings = await getOrgSettings(ctx.db, actor.orgId);
  const language = body.language ?? settings.defaultLanguage;
  return ctx.db.transaction(async (tx) => {
    const id = await notify(ctx, tx, {
      orgId: actor.orgId,
      channel: body.channel,
      to: body.to,
      template: 'test',
      language,
      vars: {},
      userId: actor.userId,
      actorId: actor.userId,
    });
    await writeAudit(tx, actor, {
      action: 'notification.test',
      entityType: 'notification',
      entityId: id,
      data: { channel: body.channel, to: maskRecipient(body.channel, body.to), language },
    });
    const [row] = await tx.select().from(notifications).where(eq(notifications.id, id));
    return view(row!);
  });
}

const templateView = (key: TemplateKey, language: Language, t: { subject: string; body: string; customised: boolean }) => ({
  key,
  language,
  subject: t.subject,
  body: t.body,
  customised: t.customised,
  variables: [...TEMPLATE_VARIABLES[key]],
});

/** Every key in every language, as the organisation's messages read now. */
export async function listTemplates(ctx: AppContext, orgId: string) {
  const overrides = await ctx.db.select().from(notificationTemplates).where(eq(notificationTemplates.orgId, orgId));
  const byKey = new Map(overrides.map((o) => [`${o.key}/${o.language}`, o]));
  const items = [];
  for (const key of TEMPLATE_KEYS)
    for (const language of LANGUAGES) {
      const o = byKey.get(`${key}/${language}`);
      items.push(
        templateView(
          key,
          language,
          o ? { subject: o.subject, body: o.body, customised: true } : { ...defaultTemplate(key, language), customised: false },
        ),
      );
    }
  return { items };
}

export async function saveTemplate(
  ctx: AppContext,
  actor: Actor,
  key: TemplateKey,
  language: Language,
  body: { subject: string; body: string },
) {
  checkTemplate(key, 'subject', body.subject);
  checkTemplate(key, 'body', body.body);
  return ctx.db.transaction(async (tx) => {
    await tx
      .insert(notificationTemplates)
      .values({
        id: uuidv7(),
        orgId: actor.orgId,
        key,
        language,
        subject: body.subject,
        body: body.body,
        createdBy: actor.userId,
        updatedBy: actor.userId,
      })
      .onConflictDoUpdate({
        target: [notificationTemplates.orgId, notificationTemplates.key, notificationTemplates.language],
        set: { subject: body.subject, body: body.body, updatedAt: new Date(), updatedBy: actor.userId },
      });
    await writeAudit(tx, actor, {
      action: 'notification_template.update',
      entityType: 'notification_template',
      entityId: `${key}/${language}`,
      data: { key, language },
    });
    return templateView(key, language, { ...body, customised: true });
  });
}

/** Back to the shipped wording. */
export async function resetTemplate(ctx: AppContext, actor: Actor, key: TemplateKey, language: Language) {
  return ctx.db.transaction(async (tx) => {
    const gone = await tx
      .delete(notificationTemplates)
      .where(
        and(eq(notificationTemplates.orgId, actor.orgId), eq(notificationTemplates.key, key), eq(notificationTemplates.language, language)),
      )
      .returning({ id: notificationTemplates.id });
    if (gone.length > 0)
      await writeAudit(tx, actor, {
        action: 'notification_template.reset',
        entityType: 'notification_template',
        entityId: `${key}/${language}`,
        data: { key, language },
      });
    return templateView(key, language, { ...defaultTemplate(key, language), customised: false });
  });
}

/** The message as it would arrive, with example values and the organisation's branding; nothing is saved. */
export async function previewTemplate(
  ctx: AppContext,
  orgId: string,
  q: { key: TemplateKey; language: Language; subject?: string; body?: string },
) {
  if (q.subject !== undefined) checkTemplate(q.key, 'subject', q.subject);
  if (q.body !== undefined) checkTemplate(q.key, 'body', q.body);
  const current = await effectiveTemplate(ctx.db, orgId, q.key, q.language);
  const settings = await getOrgSettings(ctx.db, orgId);
  return renderTemplate(
    { subject: q.subject ?? current.subject, body: q.body ?? current.body },
    sampleVars(q.language),
    settings,
    q.language,
  );
}
