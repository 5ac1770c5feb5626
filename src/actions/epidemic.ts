import { localized } from '../engine/localized';
import type { Action, Translator } from '../engine/contracts';
import type { JsonValue, Locale } from '../engine/types';
import type { Area, Coordinates } from '../locality/guidanceSchema';
import { distanceKm } from '../locality/geo';
import type { Commune, Locality } from '../locality/localitySchema';

export const EPIDEMIC_TEXT_KEYS = [
  'guidance.noCommune',
  'epidemic.stationAddress',
  'epidemic.stationPhone',
  'epidemic.stationHours',
  'epidemic.stationAsk',
  'epidemic.areasHeader',
  'epidemic.areaLine',
  'epidemic.areaUntil',
  'epidemic.areaOpenEnded',
  'epidemic.areaEnded',
  'epidemic.areaStale',
  'epidemic.areaYourCommune',
  'epidemic.areasNone',
  'epidemic.checkpoints',
  'epidemic.isolationAreas',
  'epidemic.lockdownAreas',
  'epidemic.mapLink',
  'epidemic.mapUnknown',
  'epidemic.farAway',
  'epidemic.nearestFound',
  'epidemic.nearestUnknown',
  'epidemic.noLocation',
];

const DAY_MS = 86_400_000;

function formatDate(iso: string, locale: Locale): string {
  const [y, m, d] = iso.split('-');
  return locale === 'vi' ? `${d}/${m}/${y}` : iso;
}

function today(now: number): string {
  return new Date(now).toISOString().slice(0, 10);
}

function asCoordinates(value: JsonValue | undefined): Coordinates | null {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return null;
  const { latitude, longitude } = value;
  return typeof latitude === 'number' && typeof longitude === 'number' ? { latitude, longitude } : null;
}

/** Epidemic information from the locality file: the commune's health station, areas with dates, the map, the nearest station. */
export function createEpidemicActions(locality: Locality, i18n: Translator) {
  // A line whose fact the locality file does not have is left out (not "no phone yet"); with none, where to ask.
  const stationCard = (commune: Commune, locale: Locale) => {
    const s = commune.healthStation;
    const hours = localized(s.openingHours, locale);
    const lines = [
      ...(s.address ? [i18n.t(locale, 'epidemic.stationAddress', { address: s.address })] : []),
      ...(s.phone ? [i18n.t(locale, 'epidemic.stationPhone', { phone: s.phone })] : []),
      ...(hours ? [i18n.t(locale, 'epidemic.stationHours', { hours })] : []),
    ];
    if (lines.length === 0) lines.push(i18n.t(locale, 'epidemic.stationAsk', { commune: commune.name }));
    return [`🏥 ${s.name}`, ...lines].join('\n');
  };

  const describeStation: Action = async ({ locale, profile }) => {
    const commune = locality.communes.find((c) => c.id === profile.commune);
    if (!commune) return { ok: false, message: 'guidance.noCommune' };
    return { ok: true, output: { stationCard: stationCard(commune, locale) } };
  };

  const areaLine = (a: Area, locale: Locale, now: number, ownCommune: string | null): string => {
    const t = (key: string, vars?: Record<string, unknown>) => i18n.t(locale, key, vars);
    const day = today(now);
    const communeName = a.commune ? (locality.communes.find((c) => c.id === a.commune)?.name ?? '') : localized(locality.district, locale);
    const period = a.until ? t('epidemic.areaUntil', { from: formatDate(a.from, locale), until: formatDate(a.until, locale) }) : t('epidemic.areaOpenEnded', { from: formatDate(a.from, locale) });
    const notes = [
      a.until && a.until < day ? t('epidemic.areaEnded') : '',
      now - Date.parse(`${a.checkedOn}T00:00:00Z`) > locality.epidemic.staleAfterDays * DAY_MS ? t('epidemic.areaStale', { checked: formatDate(a.checkedOn, locale) }) : '',
      a.commune !== null && a.commune === ownCommune ? t('epidemic.areaYourCommune') : '',
    ].filter(Boolean);
    const details = [localized(a.description, locale) ?? '', ...notes].filter(Boolean).join(' ');
    return t('epidemic.areaLine', { name: a.name, commune: communeName, period, details: details ? ` ${details}` : '' });
  };

  const listAreas: Action = async ({ locale, profile, now }) => {
    const sections = (['checkpoints', 'isolationAreas', 'lockdownAreas'] as const).map((list) => {
      const entries = [...locality.epidemic[list]].sort((a, b) => Number(b.commune === profile.commune) - Number(a.commune === profile.commune) || b.from.localeCompare(a.from));
      const header = i18n.t(locale, 'epidemic.areasHeader', { list: i18n.t(locale, `epidemic.${list}`), count: entries.length });
      const body = entries.length > 0 ? entries.map((a) => areaLine(a, locale, now, profile.commune)).join('\n') : i18n.t(locale, 'epidemic.areasNone', { asOf: formatDate(locality.asOf, locale) });
      return `${header}\n${body}`;
    });
    return { ok: true, output: { areasText: sections.join('\n\n') } };
  };

  const describeMap: Action = async ({ locale }) => {
    const link = locality.epidemic.provincialMapLink;
    return { ok: true, output: { mapLine: link ? i18n.t(locale, 'epidemic.mapLink', { url: link }) : i18n.t(locale, 'epidemic.mapUnknown') } };
  };

  /**
   * The nearest health station to a shared location, by straight-line distance from the stations' coordinates. A
   * location far outside the district is refused kindly (the flow asks again); without a location or without any
   * station coordinates, the person's own commune station is shown.
   */
  const nearestStation: Action = async ({ locale, profile, answers }) => {
    const own = locality.communes.find((c) => c.id === profile.commune);
    const where = asCoordinates(answers.where);
    if (!where) return { ok: true, output: { nearestText: `${i18n.t(locale, 'epidemic.noLocation')}\n\n${own ? stationCard(own, locale) : ''}`.trim() } };
    const fromCentre = distanceKm(where, locality.area.centre);
    if (fromCentre > locality.area.radiusKm) return { ok: false, message: 'epidemic.farAway', vars: { district: localized(locality.district, locale), km: Math.round(fromCentre) } };
    const located = locality.communes.flatMap((c) => (c.healthStation.location ? [{ commune: c, km: distanceKm(where, c.healthStation.location) }] : []));
    located.sort((a, b) => a.km - b.km);
    const nearest = located[0];
    if (!nearest) return { ok: true, output: { nearestText: `${i18n.t(locale, 'epidemic.nearestUnknown')}\n\n${own ? stationCard(own, locale) : ''}`.trim() } };
    const km = nearest.km < 10 ? nearest.km.toFixed(1) : String(Math.round(nearest.km));
    return { ok: true, output: { nearestText: `${i18n.t(locale, 'epidemic.nearestFound', { km: locale === 'vi' ? km.replace('.', ',') : km })}\n${stationCard(nearest.commune, locale)}` } };
  };

  return { describeStation, listAreas, describeMap, nearestStation };
}
