import { Nullable } from '@gatehouse/protocol';
import Type from 'typebox';
import { EX } from '../../lib/examples.js';
import { PageQuery, Timestamp, Uuid } from '../../lib/pagination.js';

const fields = {
  fullName: Type.String({ minLength: 1, maxLength: 200 }),
  email: Nullable(Type.String({ format: 'email', maxLength: 320 })),
  phone: Nullable(Type.String({ minLength: 3, maxLength: 32, pattern: '^[0-9+() .-]+$' })),
  company: Nullable(Type.String({ maxLength: 200 })),
  documentNumber: Nullable(Type.String({ minLength: 1, maxLength: 64 })),
};
export const VisitorBody = Type.Object(
  {
    fullName: fields.fullName,
    email: Type.Optional(fields.email),
    phone: Type.Optional(fields.phone),
    company: Type.Optional(fields.company),
    documentNumber: Type.Optional(fields.documentNumber),
  },
  { additionalProperties: false, examples: [{ fullName: 'Ada Lovelace', email: 'ada@example.com', company: 'Analytical Engines Ltd' }] },
);
export const VisitorPatch = Type.Object(
  {
    fullName: Type.Optional(fields.fullName),
    email: Type.Optional(fields.email),
    phone: Type.Optional(fields.phone),
    company: Type.Optional(fields.company),
    documentNumber: Type.Optional(fields.documentNumber),
  },
  { additionalProperties: false, minProperties: 1 },
);
/** `phone` and `documentNumber` are left out of the answer unless the caller holds `visitors:pii`. */
export const Visitor = Type.Object(
  {
    id: Uuid(),
    orgId: Uuid(),
    ...fields,
    phone: Type.Optional(fields.phone),
    documentNumber: Type.Optional(fields.documentNumber),
    createdAt: Timestamp(),
    updatedAt: Timestamp(),
  },
  {
    examples: [
      {
        id: EX.visitor,
        orgId: EX.org,
        fullName: 'Ada Lovelace',
        email: 'ada@example.com',
        company: 'Analytical Engines Ltd',
        phone: '+44 20 7946 0000',
        documentNumber: null,
        createdAt: EX.created,
        updatedAt: EX.created,
      },
    ],
  },
);
export const VisitorList = Type.Object({
  ...PageQuery,
  q: Type.Optional(
    Type.String({
      maxLength: 200,
      description:
        'Exact search (personal data is sealed): an id, a visitor e-mail or phone (by keyed hash), a card number, or whole words of a name (by keyed hashes of its words)',
    }),
  ),
});
