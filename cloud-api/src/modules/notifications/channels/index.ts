/** The adapter of every channel, built once per app by the sender. */
import type { AppContext } from '../../../context.js';
import type { Channel } from '../../../db/schema.js';
import type { ChannelAdapter } from './channel.js';
import { emailChannel } from './email.js';
import { smsChannel } from './sms.js';
import { telegramChannel } from './telegram.js';
import { webPushChannel } from './webpush.js';

export function createChannels(ctx: AppContext): Record<Channel, ChannelAdapter> {
  return {
    email: emailChannel(ctx),
    sms: smsChannel(ctx),
    telegram: telegramChannel(ctx),
    webpush: webPushChannel(ctx),
  };
}
