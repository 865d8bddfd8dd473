import i18n from '../../i18n/index.ts';
import type { Who } from './feed.ts';

/** A feed line's "who" in the interface language: a name as it is, an unknown one described. */
export function whoText(w: Who | undefined): string {
  if (!w) return '—';
  if ('name' in w) return w.name;
  if ('unknown' in w) return i18n.t(w.unknown === 'card' ? 'feed.unknownCard' : 'feed.unknownCredential', { ns: 'guard' });
  if ('pass' in w) return i18n.t('feed.passTail', { ns: 'guard', id: w.pass });
  return i18n.t('feed.visitorTail', { ns: 'guard', id: w.visitor });
}
