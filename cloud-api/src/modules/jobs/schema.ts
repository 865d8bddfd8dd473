import { Nullable } from '@gatehouse/protocol';
import Type from 'typebox';
import { Timestamp, Uuid } from '../../lib/pagination.js';

export const DeadList = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
});

export const DeadJobItem = Type.Object({
  id: Uuid(),
  queue: Type.String({ description: 'e.g. notify.send' }),
  attempts: Type.Integer({ minimum: 1 }),
  error: Nullable(Type.String({ description: 'the last attempt’s error message (e-mail addresses masked)' })),
  createdAt: Timestamp(),
  failedAt: Nullable(Timestamp()),
  refs: Type.Record(Type.String(), Uuid(), {
    description:
      'the ids the job refers to (e.g. `id` of a notify.send job is the message’s): never the rest of its data, which may carry personal data',
  }),
});

export const DeadJobs = Type.Object({ items: Type.Array(DeadJobItem) });

export const RetriedJob = Type.Object({
  id: Uuid(),
  queue: Type.String(),
  state: Type.Literal('retry'),
});

export const QueueStat = Type.Object({
  queue: Type.String(),
  depth: Type.Integer({ description: 'due and waiting to run' }),
  scheduled: Type.Integer({ description: 'waiting for a later start' }),
  active: Type.Integer(),
  dead: Type.Integer(),
  oldestAgeS: Type.Number({ description: 'seconds the oldest due job has waited; 0 when none' }),
});

export const JobStats = Type.Object({ queues: Type.Array(QueueStat) });
