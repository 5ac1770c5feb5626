import type { Translator } from '../engine/contracts';
import type { Locality } from '../locality/localitySchema';
import type { PosterContent } from './poster';
import type { Venue } from './VenueRepository';

/**
 * What a venue's poster says, from the venue, the locality file (district header, the commune health station's
 * phone as the contact, left off when not known) and the texts in `locales/<lang>/venues.json` (`poster.*`).
 */
export function composePosterContent(
  venue: Pick<Venue, 'name' | 'kind' | 'plate' | 'address' | 'commune' | 'code'>,
  locality: Locality,
  i18n: Translator,
  link: string,
): PosterContent {
  const commune = locality.communes.find((c) => c.id === venue.commune);
  const station = commune?.healthStation;
  const t = (key: string, vars?: Record<string, unknown>) => i18n.t('vi', key, vars);
  const both = (key: string): [string, string] => [i18n.t('vi', key), i18n.t('en', key)];
  return {
    header: `${locality.district.vi} · ${locality.province.vi}`.toLocaleUpperCase('vi'),
    title: t('venues.poster.title'),
    titleEn: i18n.t('en', 'venues.poster.title'),
    venueName: venue.name,
    venueLine: [t(`venues.kind_${venue.kind}`) + (venue.plate ? ` ${venue.plate}` : ''), venue.address, commune?.name ?? venue.commune].join(' · '),
    codeLine: t('venues.poster.code', { code: venue.code }),
    link,
    steps: [both('venues.poster.step1'), both('venues.poster.step2'), both('venues.poster.step3')],
    contact: station?.phone ? t('venues.poster.contact', { name: station.name, phone: station.phone }) : null,
    footer: t('venues.poster.footer', { link }),
  };
}
