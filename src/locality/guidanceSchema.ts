import { z } from 'zod';

/**
 * The guidance part of a locality file: the contact-tracing app, QR check-in, the public-service catalogue and the
 * epidemic information (health-station hours and positions, checkpoints, isolation and lockdown areas). Everything a
 * district may need to change without a code change lives here; a fact nobody could source is `null`, and the bot
 * says it is not known.
 */

export const localizedText = z.object({ vi: z.string().min(1), en: z.string().min(1) }).strict();
export const localizedList = z.object({ vi: z.array(z.string().min(1)), en: z.array(z.string().min(1)) }).strict();
const url = z.string().regex(/^https?:\/\/\S+$/, { message: 'expected a link starting with http:// or https://' });
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, { message: 'expected a date YYYY-MM-DD' });
const id = z.string().regex(/^[a-z0-9][a-z0-9-]{0,47}$/, { message: 'expected an id of lower-case letters, digits or -' });

export const coordinatesSchema = z
  .object({ latitude: z.number().min(-90).max(90), longitude: z.number().min(-180).max(180) })
  .strict();

/** The contact-tracing app (Bluezone in 2021). Switching to a successor app is an edit of this object. */
export const helpContactSchema = z
  .object({ name: z.string().min(1), phone: z.string().regex(/^\+?[0-9 .]{3,20}$/).nullable(), where: z.string().min(1).nullable() })
  .strict();

export const tracingAppSchema = z
  .object({
    name: z.string().min(1),
    /** Who made it, as the official pages say. */
    developer: localizedText,
    /** The publisher name shown in the stores; null when not confirmed. */
    storePublisher: z.string().min(1).nullable(),
    /** A link that opens the right store page on any phone. */
    installLink: url,
    infoLink: url.nullable(),
    faqLink: url.nullable(),
    /**
     * The district's IT contact for problems with the app, when a commune has no help contact of its own (app problems
     * are not for the Ministry of Health's medical line); null when not known.
     */
    districtHelpContact: helpContactSchema.nullable().default(null),
    android: z.object({ storeName: z.string().min(1), link: url.nullable() }).strict(),
    ios: z.object({ storeName: z.string().min(1), link: url.nullable() }).strict(),
    /** Names of apps people installed by mistake. */
    lookalikes: z.array(z.string().min(1)),
    /** What the app does with people's data, one point a line. */
    privacy: localizedList,
  })
  .strict();

export const qrCheckinSchema = z
  .object({
    /** Apps that scan the venue QR code and record the visit. */
    scannerApps: z.array(z.string().min(1)).min(1),
    /** The web declaration site that venue codes open. */
    declarationSite: url.nullable(),
    /** Further guidance pages (the province's or the ministry's). */
    guideLinks: z.array(z.object({ label: localizedText, url }).strict()).default([]),
  })
  .strict();

export const portalSchema = z.object({ id, name: localizedText, url }).strict();

export const serviceCategorySchema = z
  .object({
    id,
    name: localizedText,
    /** Words that find the whole category in a search. */
    keywords: z.array(z.string().min(1)).default([]),
  })
  .strict();

export const procedureSchema = z
  .object({
    id,
    category: id,
    /** 3: file online, collect the result in person; 4: also pay online and receive the result online or by post. */
    level: z.union([z.literal(3), z.literal(4)]),
    name: localizedText,
    description: localizedText,
    documents: localizedList,
    /** Who handles it. */
    authority: z.enum(['commune', 'district']),
    where: localizedText,
    fee: localizedText,
    portal: id,
    /** A deep link to this procedure on the portal; null: the portal's home page and the name to search for. */
    link: url.nullable(),
    /** The result can be sent by the public postal service (Bưu điện). */
    postalDelivery: z.boolean(),
    /** Other words people use for it (without diacritics is fine). */
    keywords: z.array(z.string().min(1)).default([]),
  })
  .strict();

export const publicServicesSchema = z
  .object({
    portals: z.array(portalSchema).min(1),
    /** Where to ask in person: the commune's one-stop office ({{commune}} is filled in). */
    oneStopOffice: localizedText,
    /** Whether the district has checked this list against the province's published catalogue. */
    reviewed: z.boolean(),
    categories: z.array(serviceCategorySchema).min(1),
    procedures: z.array(procedureSchema).min(1),
  })
  .strict();

/** A checkpoint, an isolation area or a lockdown area. Dates make stale entries easy to spot. */
export const areaSchema = z
  .object({
    id,
    name: z.string().min(1),
    /** Commune id, or null for district-wide entries. */
    commune: z.string().nullable(),
    description: localizedText.nullable(),
    from: isoDate,
    /** Last day in force; null: until further notice. */
    until: isoDate.nullable(),
    /** When someone last confirmed this entry. */
    checkedOn: isoDate,
  })
  .strict();

export const epidemicSchema = z
  .object({
    /** The province's Covid map; null when not known. */
    provincialMapLink: url.nullable(),
    /** Entries not confirmed for this many days are shown with a warning. */
    staleAfterDays: z.number().int().positive(),
    checkpoints: z.array(areaSchema),
    isolationAreas: z.array(areaSchema),
    lockdownAreas: z.array(areaSchema),
  })
  .strict();

/** Where the district is, so a shared location far away gets a friendly answer. */
export const districtAreaSchema = z
  .object({
    centre: coordinatesSchema,
    /** A shared location further than this from the centre is treated as outside the district. */
    radiusKm: z.number().positive(),
  })
  .strict();

/** A person or office that helps citizens with the app and the services, per commune. */

export type TracingApp = z.infer<typeof tracingAppSchema>;
export type PublicServices = z.infer<typeof publicServicesSchema>;
export type Procedure = z.infer<typeof procedureSchema>;
export type Epidemic = z.infer<typeof epidemicSchema>;
export type Area = z.infer<typeof areaSchema>;
export type Coordinates = z.infer<typeof coordinatesSchema>;
