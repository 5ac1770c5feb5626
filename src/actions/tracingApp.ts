import type { CampaignStore } from '../campaign/CampaignStore';
import type { Action, Translator } from '../engine/contracts';
import type { Locale } from '../engine/types';
import type { Locality } from '../locality/localitySchema';

export const TRACING_APP_TEXT_KEYS = ['guidance.publisherKnown', 'guidance.qrSiteNote', 'guidance.qrGuides', 'guidance.helpContact', 'guidance.helpFallback', 'guidance.unknownPhone', 'guidance.noCommune'];

/** Variables every text may use about the contact-tracing app, so a successor app is a change of the locality file. */
export function tracingAppVars(locality: Locality, locale: Locale, i18n: Translator): Record<string, string> {
  const app = locality.tracingApp;
  return {
    appName: app.name,
    appDeveloper: app.developer[locale],
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
    appPrivacy: app.privacy[locale].map((p) => `• ${p}`).join('\n'),
    qrApps: locality.qrCheckin.scannerApps.join(', '),
    /** Where a relative can declare for someone without a smartphone; nothing when not known. */
    qrSiteNote: locality.qrCheckin.declarationSite ? i18n.t(locale, 'guidance.qrSiteNote', { url: locality.qrCheckin.declarationSite }) : '',
    /** The district's further QR guidance pages, as a paragraph; nothing when there are none. */
    qrGuidesNote:
      locality.qrCheckin.guideLinks.length > 0
        ? `\n\n${i18n.t(locale, 'guidance.qrGuides')}\n${locality.qrCheckin.guideLinks.map((g) => `• ${g.label[locale]}: ${g.url}`).join('\n')}`
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

/** The commune's help contact for people stuck installing; the health station and hotline when there is none. */
export function createCommuneHelp(locality: Locality, i18n: Translator): Action {
  return async ({ locale, profile }) => {
    const commune = locality.communes.find((c) => c.id === profile.commune);
    if (!commune) return { ok: false, message: 'guidance.noCommune' };
    const unknown = i18n.t(locale, 'guidance.unknownPhone');
    const contact = commune.helpContact;
    const helpLine = contact
      ? i18n.t(locale, 'guidance.helpContact', { name: contact.name, phone: contact.phone ?? unknown, where: contact.where ?? commune.name })
      : i18n.t(locale, 'guidance.helpFallback', {
          commune: commune.name,
          station: commune.healthStation.name,
          phone: commune.healthStation.phone ?? unknown,
          hotline: locality.hotlines[0]!.number,
        });
    return { ok: true, output: { helpLine } };
  };
}
