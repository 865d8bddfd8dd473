import Type from 'typebox';
import { Timestamp, Uuid } from '../../lib/pagination.js';

/** A reader's name as the controller's config gives it (edge config `readers[].name`). */
const ReaderName = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$' });

export const OsdpKeyBody = Type.Object({ reader: ReaderName }, { additionalProperties: false, examples: [{ reader: 'door' }] });
export const ReaderParams = Type.Object({ id: Uuid(), reader: ReaderName });

export const OsdpKeyStatus = Type.Union([Type.Literal('pending'), Type.Literal('active'), Type.Literal('failed')], {
  description: 'pending: sent, not yet reported in use; active: the reader reports it in use; failed: the controller could not set it',
});

export const OsdpKey = Type.Object({
  reader: Type.String(),
  status: OsdpKeyStatus,
  keyId: Type.String({ description: 'the first 8 hex digits of SHA-256 of the key (SPEC CMD-5); never the key' }),
  updatedAt: Timestamp(),
});
export const OsdpKeyList = Type.Object({ items: Type.Array(OsdpKey), nextCursor: Type.Null() });

export const OsdpKeySent = Type.Object({
  ...OsdpKey.properties,
  command: Type.Object({
    id: Uuid(),
    status: Type.Union([Type.Literal('sent'), Type.Literal('queued')], {
      description: 'queued: the broker was not reachable; the command expires, and resend sends the same key again',
    }),
  }),
});
