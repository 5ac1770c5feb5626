/**
 * The picture cards of the key guidance: numbered steps that need little reading. A card's words are texts in
 * `locales/<lang>/pictures.json` (so a language is a folder), its numbers come from the locality file through the
 * text variables; the pictograms are simple drawings named here. A district may replace any card with its own
 * file (see `GuidancePictures`).
 */

/** The simple drawings a step can carry (see `renderGuidanceCard`). */
export const PICTOGRAMS = [
  'store',
  'search',
  'install',
  'bluetooth',
  'running',
  'phone',
  'scan',
  'qr',
  'form',
  'camera',
  'link',
  'mask',
  'wash',
  'distance',
  'crowd',
  'danger',
  'call',
  'station',
  'yes',
  'no',
] as const;
export type Pictogram = (typeof PICTOGRAMS)[number];

export interface CardStep {
  /** Text key of the step (short: a few words). */
  text: string;
  pictogram: Pictogram;
  /** Text variables the step needs; the step is left off when one of them is empty (a fact the district has not given). */
  needs?: readonly string[];
}

export interface GuidanceCard {
  id: string;
  /** Text key of the card's title (also its caption). */
  title: string;
  steps: readonly CardStep[];
  /**
   * Only a file the district supplies is shown (nothing is drawn): for pictures that must be exact, such as the
   * official app icon. Without the file the step shows no picture.
   */
  fileOnly?: boolean;
}

const step = (text: string, pictogram: Pictogram, needs?: readonly string[]): CardStep => ({ text, pictogram, ...(needs ? { needs } : {}) });

export const GUIDANCE_CARDS: readonly GuidanceCard[] = [
  {
    id: 'install-android',
    title: 'pictures.installAndroid.title',
    steps: [
      step('pictures.installAndroid.s1', 'store'),
      step('pictures.install.search', 'search'),
      step('pictures.installAndroid.s3', 'install'),
      step('pictures.install.bluetooth', 'bluetooth'),
      step('pictures.install.keep', 'running'),
    ],
  },
  {
    id: 'install-iphone',
    title: 'pictures.installIphone.title',
    steps: [
      step('pictures.installIphone.s1', 'store'),
      step('pictures.install.search', 'search'),
      step('pictures.installIphone.s3', 'install'),
      step('pictures.install.bluetooth', 'bluetooth'),
      step('pictures.install.keep', 'running'),
    ],
  },
  { id: 'app-icon', title: 'pictures.appIcon.title', steps: [], fileOnly: true },
  {
    id: 'qr-app',
    title: 'pictures.qrApp.title',
    steps: [step('pictures.qrApp.s1', 'phone'), step('pictures.qrApp.s2', 'scan'), step('pictures.qr.point', 'qr'), step('pictures.qrApp.s4', 'form')],
  },
  {
    id: 'qr-zalo',
    title: 'pictures.qrZalo.title',
    steps: [step('pictures.qrZalo.s1', 'phone'), step('pictures.qrZalo.s2', 'scan'), step('pictures.qr.point', 'qr'), step('pictures.qrZalo.s4', 'form')],
  },
  {
    id: 'qr-camera',
    title: 'pictures.qrCamera.title',
    steps: [step('pictures.qrCamera.s1', 'camera'), step('pictures.qr.point', 'qr'), step('pictures.qrCamera.s3', 'link'), step('pictures.qrCamera.s4', 'form')],
  },
  {
    id: 'fivek',
    title: 'pictures.fivek.title',
    steps: [
      step('pictures.fivek.s1', 'mask'),
      step('pictures.fivek.s2', 'wash'),
      step('pictures.fivek.s3', 'distance'),
      step('pictures.fivek.s4', 'crowd'),
      step('pictures.fivek.s5', 'form'),
    ],
  },
  {
    id: 'emergency',
    title: 'pictures.emergency.title',
    steps: [
      step('pictures.emergency.s1', 'danger'),
      step('pictures.emergency.s2', 'call', ['emergencyNumber']),
      step('pictures.emergency.s3', 'station', ['stationPhone']),
    ],
  },
  {
    id: 'callback-consent',
    title: 'pictures.callbackConsent.title',
    steps: [step('pictures.callbackConsent.yes', 'yes'), step('pictures.callbackConsent.no', 'no')],
  },
];

export const GUIDANCE_CARD_IDS: readonly string[] = GUIDANCE_CARDS.map((c) => c.id);

/**
 * How the install steps tell people to check the app's icon (`{{appIconCheck}}`): against the picture above when the
 * district supplied the official icon (`app-icon`), else against the app's official page.
 */
export const APP_ICON_CHECK_KEYS = ['pictures.appIcon.seeAbove', 'pictures.appIcon.seeSite'] as const;

/** Every text key of the cards; start-up checks each in every locale. */
export const GUIDANCE_CARD_TEXT_KEYS: readonly string[] = [...new Set(['pictures.footer', ...APP_ICON_CHECK_KEYS, ...GUIDANCE_CARDS.flatMap((c) => [c.title, ...c.steps.map((s) => s.text)])])];
