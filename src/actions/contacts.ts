import { localized } from '../engine/localized';
import type { Action } from '../engine/contracts';
import type { Locality } from '../locality/localitySchema';

/**
 * The hotlines and the user's own commune health station, as lines of text. A station whose phone the locality file
 * does not have is left out (never guessed, and no "no number yet" line).
 */
export function createListContacts(locality: Locality): Action {
  return async ({ locale, profile }) => {
    const hotlines = locality.hotlines.map((h) => `☎ ${h.number}: ${localized(h.label, locale)}${h.note ? ` (${localized(h.note, locale)})` : ''}`);
    const commune = locality.communes.find((c) => c.id === profile.commune);
    const station = commune?.healthStation.phone
      ? `\n🏥 ${commune.healthStation.name}: ${commune.healthStation.phone}${commune.healthStation.address ? `, ${commune.healthStation.address}` : ''}`
      : '';
    return { ok: true, output: { hotlineList: hotlines.join('\n'), stationLine: station } };
  };
}
