import type { FigureProvider, FigureTable } from '../campaign/CampaignFigures';
import type { Translator } from '../engine/contracts';
import { VENUE_KINDS, type VenueFigures, type VenueRepository } from './VenueRepository';

const COUNTS = ['listed', 'nationalQr', 'confirmed', 'checkedOnSite'] as const;

/**
 * Venues in the campaign figures (dashboard table and the report): per commune, venues listed against venues
 * registered with a QR checkpoint (the national QR code posted), confirmed and checked on site, as they stood at the
 * end of the range; and the same per kind of place. Labels from `locales/<lang>/venues.json` (`figures.*`, `kind_*`).
 */
export function createVenueFigureProvider(repo: VenueRepository, i18n: Translator): FigureProvider {
  const both = (key: string) => ({ vi: i18n.t('vi', key), en: i18n.t('en', key) });
  const columns = COUNTS.map((c) => ({ id: `venues.${c}`, label: both(`venues.figures.${c}`) }));
  const sum = (rows: VenueFigures[]) => Object.fromEntries(COUNTS.map((c) => [`venues.${c}`, rows.reduce((n, r) => n + r[c], 0)]));
  return {
    id: 'venues',
    columns,
    async perCommune({ end }, communes) {
      const rows = await repo.figures(communes, end);
      return Object.fromEntries(communes.map((id) => [id, sum(rows.filter((r) => r.commune === id))]));
    },
    async tables({ end }, communes): Promise<FigureTable[]> {
      const rows = await repo.figures(communes, end);
      return [
        {
          id: 'venues-by-kind',
          title: both('venues.figures.byKind'),
          columns,
          rows: [
            ...VENUE_KINDS.map((kind) => ({ id: kind, label: both(`venues.kind_${kind}`), values: sum(rows.filter((r) => r.kind === kind)) })),
            { id: 'total', label: both('venues.figures.total'), values: sum(rows) },
          ],
        },
      ];
    },
  };
}
