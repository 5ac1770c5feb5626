import { localized } from '../engine/localized';
import type { CampaignStore, OfficialUnit } from '../campaign/CampaignStore';
import type { Action, Translator } from '../engine/contracts';
import type { Locale } from '../engine/types';
import type { Locality } from '../locality/localitySchema';

export const TRACING_APP_TEXT_KEYS = ['guidance.publisherKnown', 'guidance.qrSiteNote', 'guidance.qrGuides', 'guidance.helpContact', 'guidance.helpContactNoPhone', 'guidance.helpFallback', 'guidance.noCommune'];

/** Variables every text may use about the contact-tracing app, so a successor app is a change of the locality file. */
export function tracingAppVars(locality: Locality, locale: Locale, i18n: Translator): Record<string, string> {
  const app = locality.tracingApp;
  return {
    appName: app.name,
    appDeveloper: localized(app.developer, locale),
    /** ", publisher “X”" when the store publisher is known; nothing when it is not (the logo check still applies). */
    appPublisherNote: app.storePublisher ? i18n.t(locale, 'guidance.publisherKnown', { publisher: app.storePublisher }) : '',
    appInstallLink: app.installLink,
    appAndroidStore: app.android.storeName,
    appAndroidLink: app.android.link ?? app.installLink,
    appIosStore: app.ios.storeName,
    appIosLink: app.ios.link ?? app.installLink,
    appInfoLink: app.infoLink ?? app.installLink,
    appFaqLink: app.faqLink ?? app.infoLink ?? app.installLink,
    appLookalikes: app.lookalikes.map((n) => `“${n}”`).join(', '),
    appPrivacy: localized(app.privacy, locale).map((p) => `• ${p}`).join('\n'),
    qrApps: locality.qrCheckin.scannerApps.join(', '),
    /** The national declaration site (tokhaiyte.vn in 2021). */
    declarationSite: locality.qrCheckin.declarationSite ?? '',
    /** Where a relative can declare for someone without a smartphone; nothing when not known. */
    qrSiteNote: locality.qrCheckin.declarationSite ? i18n.t(locale, 'guidance.qrSiteNote', { url: locality.qrCheckin.declarationSite }) : '',
    /** The district's further QR guidance pages, as a paragraph; nothing when there are none. */
    qrGuidesNote:
      locality.qrCheckin.guideLinks.length > 0
        ? `\n\n${i18n.t(locale, 'guidance.qrGuides')}\n${locality.qrCheckin.guideLinks.map((g) => `• ${localized(g.label, locale)}: ${g.url}`).join('\n')}`
        : '',
  };
}

/**
 * "I have installed it": counted once per person for the district's campaign figures, in the commune they live in.
 * `installFirstTime` tells the flow whether to thank or to say it was already counted.
 */
export function createRecordInstall(locality: Locality, campaign: CampaignStore): Action {
  return async ({ channel, userId, eventId, profile, now }) => {
    const commune = locality.communes.find((c) => c.id === profile.commune);
    if (!commune) return { ok: false, message: 'guidance.noCommune' };
    const { firstTime } = await campaign.recordInstall({ channel, userId, commune: commune.id, eventId, at: now });
    return { ok: true, output: { installFirstTime: firstTime } };
  };
}

/**
 * Who helps someone stuck with the app: the commune's help contact, else the district's IT contact (locality file,
 * `tracingApp.districtHelpContact`), never the Ministry of Health's medical line. A contact without a phone is shown
 * without a phone line; with neither, people are told where to go in person.
 */
export function createCommuneHelp(locality: Locality, i18n: Translator): Action {
  return async ({ locale, profile }) => {
    const commune = locality.communes.find((c) => c.id === profile.commune);
    if (!commune) return { ok: false, message: 'guidance.noCommune' };
    const contact = commune.helpContact ?? locality.tracingApp.districtHelpContact;
    const helpLine = contact
      ? i18n.t(locale, contact.phone ? 'guidance.helpContact' : 'guidance.helpContactNoPhone', { name: contact.name, phone: contact.phone ?? '', where: contact.where ?? commune.name })
      : i18n.t(locale, 'guidance.helpFallback', { commune: commune.name });
    return { ok: true, output: { helpLine } };
  };
}

/**
 * After "I have installed it", two questions asked once per person for the campaign figures: is the person an
 * official (of which agency or commune office), and have they declared. `campaignProfile` tells the flow which
 * were answered; `markOfficial` and `markDeclared` store the answers.
 */
export function createCampaignMarkActions(locality: Locality, campaign: CampaignStore): Record<'campaignProfile' | 'markOfficial' | 'markDeclared', Action> {
  const communeOf = (id: string | null | undefined) => locality.communes.find((c) => c.id === id)?.id;
  return {
    campaignProfile: async ({ channel, userId }) => ({ ok: true, output: { ...(await campaign.profile(channel, userId)) } }),
    markOfficial: async ({ channel, userId, profile, answers, now }) => {
      const commune = communeOf(profile.commune);
      if (!commune) return { ok: false, message: 'guidance.noCommune' };
      const kind = answers.officialKind;
      const agency = locality.campaign.agencies.find((a) => a.id === answers.agency);
      const office = communeOf(typeof answers.officeCommune === 'string' ? answers.officeCommune : undefined);
      const unit: OfficialUnit =
        kind === 'agency' && agency ? `agency:${agency.id}` : kind === 'commune' && office ? `commune:${office}` : kind === 'none' ? 'none' : 'skipped';
      await campaign.markOfficial({ channel, userId, commune, unit, at: now });
      return { ok: true, output: {} };
    },
    markDeclared: async ({ channel, userId, profile, answers, now }) => {
      const commune = communeOf(profile.commune);
      if (!commune) return { ok: false, message: 'guidance.noCommune' };
      await campaign.markDeclared({ channel, userId, commune, declared: answers.declared === true, at: now });
      return { ok: true, output: {} };
    },
  };
}
