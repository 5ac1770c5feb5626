import { localized } from '../engine/localized';
import type { Action, OptionSource, Translator } from '../engine/contracts';
import type { JsonValue } from '../engine/types';
import type { Locality } from '../locality/localitySchema';
import { ServiceSearch } from './serviceSearch';

/** Text keys the public-service actions compose their answers from. */
export const PUBLIC_SERVICE_TEXT_KEYS = [
  'services.card',
  'services.level3',
  'services.level3Post',
  'services.level4',
  'services.level4Post',
  'services.unreviewed',
  'services.documentsList',
  'services.portalSearch',
  'services.portalLink',
  'services.authorityCommune',
  'services.authorityDistrict',
  'services.unknownProcedure',
];

function stringList(value: JsonValue | undefined): string[] {
  return Array.isArray(value) ? value.filter((x): x is string => typeof x === 'string') : [];
}

/** Browsing by category, word search and the card of one procedure, all from the locality's catalogue. */
export function createPublicServices(locality: Locality, i18n: Translator) {
  const catalogue = locality.publicServices;
  const byId = new Map(catalogue.procedures.map((p) => [p.id, p]));
  const portals = new Map(catalogue.portals.map((p) => [p.id, p]));
  const engine = new ServiceSearch(catalogue);

  const serviceCategories: OptionSource = ({ locale }) =>
    catalogue.categories.map((c) => ({ id: c.id, label: localized(c.name, locale), synonyms: c.keywords }));

  const servicesInCategory: OptionSource = ({ locale, answers }) =>
    catalogue.procedures.filter((p) => p.category === answers.category).map((p) => ({ id: p.id, label: localized(p.name, locale), synonyms: p.keywords }));

  const serviceSearchResults: OptionSource = ({ locale, answers }) =>
    stringList(answers.searchResults).flatMap((id) => {
      const p = byId.get(id);
      return p ? [{ id: p.id, label: localized(p.name, locale), synonyms: p.keywords }] : [];
    });

  const searchServices: Action = async ({ answers }) => {
    const query = typeof answers.query === 'string' ? answers.query : '';
    const hits = engine.search(query);
    return { ok: true, output: { searchCount: hits.length, searchResults: hits.map((h) => h.procedure.id) } };
  };

  const describeService: Action = async ({ answers, locale, profile }) => {
    const p = typeof answers.procedure === 'string' ? byId.get(answers.procedure) : undefined;
    if (!p) return { ok: false, message: 'services.unknownProcedure' };
    const portal = portals.get(p.portal)!;
    const commune = locality.communes.find((c) => c.id === profile.commune)?.name ?? '';
    const t = (key: string, vars?: Record<string, unknown>) => i18n.t(locale, key, vars);
    // One delivery answer per card, from the level and whether the result can come by post.
    const level = `services.level${p.level === 4 ? 4 : 3}${p.postalDelivery ? 'Post' : ''}`;
    const card = t('services.card', {
      name: localized(p.name, locale),
      level: t(level, { where: localized(p.where, locale) }),
      description: localized(p.description, locale),
      authority: t(p.authority === 'commune' ? 'services.authorityCommune' : 'services.authorityDistrict', { commune }),
      where: localized(p.where, locale),
      fee: localized(p.fee, locale),
      online: p.link
        ? t('services.portalLink', { portal: localized(portal.name, locale), url: p.link })
        : t('services.portalSearch', { portal: localized(portal.name, locale), url: portal.url, name: localized(p.name, locale) }),
      unreviewed: catalogue.reviewed ? '' : `\n${t('services.unreviewed')}`,
    });
    // The documents come on request ("Xem giấy tờ cần chuẩn bị"): the card stays short on a phone.
    const documents = t('services.documentsList', { name: localized(p.name, locale), documents: localized(p.documents, locale).map((d) => `• ${d}`).join('\n') });
    return { ok: true, output: { serviceCard: card, serviceDocuments: documents } };
  };

  return {
    optionSources: { serviceCategories, servicesInCategory, serviceSearchResults },
    actions: { searchServices, describeService },
  };
}
