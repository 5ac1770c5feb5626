import { localized } from '../engine/localized';
import { MemoryCampaignStore, type CampaignStore } from '../campaign/CampaignStore';
import type { Action, EngineRegistry, OptionSource, Translator, Validator } from '../engine/contracts';
import type { ChannelName } from '../engine/types';
import type { Locality } from '../locality/localitySchema';
import type { GuidancePictures } from '../guidance/GuidancePictures';
import { APP_ICON_CHECK_KEYS } from '../guidance/guidanceCards';
import { VALIDATORS } from '../validators';
import { createListContacts } from './contacts';
import { createEpidemicActions, EPIDEMIC_TEXT_KEYS } from './epidemic';
import { createPublicServices, PUBLIC_SERVICE_TEXT_KEYS } from './publicServices';
import { createCampaignMarkActions, createCommuneHelp, createRecordInstall, TRACING_APP_TEXT_KEYS, tracingAppVars } from './tracingApp';

/** What the actions need: the deployment's data, the texts they compose answers from, and where records go. */
export interface RegistryDeps {
  locality: Locality;
  i18n: Translator;
  /** Where "I have installed the app" is counted; in memory when not given. */
  campaign?: CampaignStore;
  /** Actions of other parts (records, announcements), by name. */
  moreActions?: Record<string, Action>;
  /** Validators and option lists of other parts (venues), by name. */
  moreValidators?: Record<string, Validator>;
  moreOptionSources?: Record<string, OptionSource>;
  /**
   * Whether a channel can message people outside a conversation (Telegram and Zalo when configured; never the web
   * chat). Flows use it to offer announcements and reminders only where they can arrive.
   */
  canPush?: (channel: ChannelName) => boolean;
  /** The guidance pictures steps may show; without them steps show their text only. */
  pictures?: GuidancePictures;
}

/**
 * The names flows may use, known without building anything: start-up checks the flows against them before any
 * storage is opened, and `createRuntime` checks that the registry it builds offers exactly these.
 */
export interface RegistryNames {
  validators: readonly string[];
  actions: readonly string[];
  optionSources: readonly string[];
}

/** The names of the actions and option lists `createRegistry` builds itself (without `moreActions`). */
export const REGISTRY_NAMES: RegistryNames = {
  validators: Object.keys(VALIDATORS),
  actions: ['listContacts', 'recordInstall', 'campaignProfile', 'markOfficial', 'markDeclared', 'communeHelp', 'searchServices', 'describeService', 'describeStation', 'listAreas', 'describeMap', 'nearestStation', 'canPush'],
  optionSources: ['communes', 'agencies', 'languages', 'serviceCategories', 'servicesInCategory', 'serviceSearchResults'],
};

/** Names in `registry` that are not in `names`, and names in `names` the registry lacks (a bug: the lists drifted). */
export function checkRegistryNames(registry: EngineRegistry, names: RegistryNames): void {
  const problems: string[] = [];
  for (const part of ['validators', 'actions', 'optionSources'] as const) {
    const built = Object.keys(registry[part]);
    const listed = new Set(names[part]);
    for (const n of built) if (!listed.has(n)) problems.push(`${part} '${n}' is built but not listed`);
    for (const n of listed) if (!built.includes(n)) problems.push(`${part} '${n}' is listed but not built`);
  }
  if (problems.length) throw new Error(`The registry and its list of names differ (src/actions/registry.ts, REGISTRY_NAMES and the *_ACTION_NAMES lists): ${problems.join('; ')}`);
}

/** Text keys that actions use themselves (not named by a flow); start-up checks each in every locale. */
export const REGISTRY_TEXT_KEYS: readonly string[] = [...new Set(['records.stationCall', ...TRACING_APP_TEXT_KEYS, ...PUBLIC_SERVICE_TEXT_KEYS, ...EPIDEMIC_TEXT_KEYS])];

/** Everything flows may name: validators, actions, option lists and the variables every text can use. */
export function createRegistry(deps: RegistryDeps): EngineRegistry {
  const { locality, i18n } = deps;
  const campaign = deps.campaign ?? new MemoryCampaignStore();
  const services = createPublicServices(locality, i18n);
  const epidemic = createEpidemicActions(locality, i18n);
  const appVars = { vi: tracingAppVars(locality, 'vi', i18n), en: tracingAppVars(locality, 'en', i18n) };
  // The install steps point at the official icon above when the district supplied it, else at the app's page.
  const iconCheck = new Map<string, string>();
  const appIconCheck = (locale: string, vars: Record<string, string>) => {
    let text = iconCheck.get(locale);
    if (text === undefined) {
      const [above, site] = APP_ICON_CHECK_KEYS;
      text = i18n.t(locale, deps.pictures?.resolve('app-icon', locale, vars) ? above : site, vars);
      iconCheck.set(locale, text);
    }
    return text;
  };
  const textVars: EngineRegistry['textVars'] = (profile, locale) => {
    const commune = locality.communes.find((c) => c.id === profile.commune);
    return {
      commune: commune?.name ?? '',
      /** Who to ask in person: the commune's help contact, else its health station, when the locality file has a phone. */
      communeContact: commune ? describeCommuneContact(commune) : '',
      /** Non-empty when the locality file lists checkpoints, isolation or lockdown areas (flows hide the item otherwise). */
      epidemicAreasListed: locality.epidemic.checkpoints.length + locality.epidemic.isolationAreas.length + locality.epidemic.lockdownAreas.length > 0 ? 'yes' : '',
      /** Non-empty when the locality file has the province's Covid map link. */
      epidemicMapKnown: locality.epidemic.provincialMapLink ? 'yes' : '',
      /** "Or call <station>: <phone>." after "call 115", when the locality file has the station's phone; else empty. */
      stationCall: commune?.healthStation.phone ? i18n.t(locale, 'records.stationCall', { station: commune.healthStation.name, phone: commune.healthStation.phone }) : '',
      district: localized(locality.district, locale),
      province: localized(locality.province, locale),
      reminderHour: String(locality.records.dailyReminderHour),
      quarantineDays: String(locality.records.quarantineDays),
      /** The first hotline of the locality file (the health hotline). */
      hotline: locality.hotlines[0]!.number,
      oneStopOffice: localized(locality.publicServices.oneStopOffice, locale).replace('{{commune}}', commune?.name ?? ''),
      portalNational: locality.publicServices.portals[0]!.url,
      ...localized(appVars, locale),
      appIconCheck: appIconCheck(locale, localized(appVars, locale)),
    };
  };
  const { pictures } = deps;
  return {
    validators: { ...VALIDATORS, ...deps.moreValidators },
    actions: {
      listContacts: createListContacts(locality),
      recordInstall: createRecordInstall(locality, campaign),
      communeHelp: createCommuneHelp(locality, i18n),
      ...createCampaignMarkActions(locality, campaign),
      ...services.actions,
      ...epidemic,
      canPush: async ({ channel }) => ({ ok: true, output: { canPush: deps.canPush?.(channel) ?? false } }),
      ...deps.moreActions,
    },
    optionSources: {
      communes: () => locality.communes.map((c) => ({ id: c.id, label: c.name, synonyms: c.aliases })),
      agencies: () => locality.campaign.agencies.map((a) => ({ id: a.id, label: a.name, synonyms: a.aliases })),
      // Every language folder, each named in its own language (`language.self`), so a new folder is a new option.
      languages: () =>
        i18n.locales.map((l) => ({
          id: l,
          label: i18n.t(l, 'language.self'),
          synonyms: i18n.t(l, 'language.selfSynonyms').split(',').map((w) => w.trim()).filter(Boolean),
        })),
      ...services.optionSources,
      ...deps.moreOptionSources,
    },
    textVars,
    ...(pictures
      ? {
          picture: (id: string, profile: Parameters<EngineRegistry['textVars']>[0], locale: string) => {
            const station = locality.communes.find((c) => c.id === profile.commune)?.healthStation;
            // Numbers on a picture come from the locality file; a step whose number is not known is left off.
            return pictures.resolve(id, locale, {
              ...textVars(profile, locale),
              emergencyNumber: locality.hotlines.find((h) => h.id === 'emergency')?.number ?? '',
              stationName: station?.name ?? '',
              stationPhone: station?.phone ?? '',
            });
          },
        }
      : {}),
  };
}

/** "name: phone (where)" of the commune's help contact, else of its health station; empty when no phone is known. */
function describeCommuneContact(commune: Locality['communes'][number]): string {
  const help = commune.helpContact;
  if (help?.phone) return `${help.name}: ${help.phone}${help.where ? ` (${help.where})` : ''}`;
  const station = commune.healthStation;
  return station.phone ? `${station.name}: ${station.phone}` : '';
}
