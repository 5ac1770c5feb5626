import type { Action } from '../engine/contracts';
import type { Locality } from '../locality/localitySchema';
import type { Locale } from '../engine/types';

const UNKNOWN = { vi: 'chưa có số điện thoại', en: 'no phone number yet' } satisfies Record<Locale, string>;

/**
 * The hotlines and the user's own commune health station, as lines of text. A number the locality file does not
 * have is said to be unknown, never guessed.
 */
export function createListContacts(locality: Locality): Action {
  return async ({ locale, profile }) => {
    const hotlines = locality.hotlines.map((h) => `☎ ${h.number}: ${h.label[locale]}${h.note ? ` (${h.note[locale]})` : ''}`);
    const commune = locality.communes.find((c) => c.id === profile.commune);
    const station = commune
      ? `🏥 ${commune.healthStation.name}: ${commune.healthStation.phone ?? UNKNOWN[locale]}${commune.healthStation.address ? `, ${commune.healthStation.address}` : ''}`
      : '';
    return { ok: true, output: { hotlineList: hotlines.join('\n'), stationLine: station } };
  };
}
