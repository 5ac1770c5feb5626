import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { OperatorError, formatZodIssues } from '../errors';
import {
  coordinatesSchema,
  districtAreaSchema,
  epidemicSchema,
  helpContactSchema,
  localizedText,
  publicServicesSchema,
  qrCheckinSchema,
  tracingAppSchema,
} from './guidanceSchema';
import { campaignSchema, checkCampaignReferences } from '../campaign/campaignSchema';
import { venueSettingsSchema } from './venueSettingsSchema';

/**
 * One deployment's local facts: communes, hotlines, health stations, ... Another district deploys by swapping this
 * file (`LOCALITY_FILE`). A fact nobody could source is left `null`, and the bot says it is not known yet.
 */

const localized = z.object({ vi: z.string().min(1), en: z.string().min(1) }).strict();
const phone = z.string().regex(/^\+?[0-9 .]{3,20}$/, { message: 'expected a phone number of digits, spaces and dots, e.g. "1900 9095"' });

export const healthStationSchema = z
  .object({
    name: z.string().min(1),
    address: z.string().min(1).nullable(),
    phone: phone.nullable(),
    /** Opening hours as people say them; null when not known. */
    openingHours: localizedText.nullable().default(null),
    /** Where the station is; null when not sourced (then "nearest station" falls back to the commune's own). */
    location: coordinatesSchema.nullable().default(null),
  })
  .strict();

export const communeSchema = z
  .object({
    /** Stable ASCII id; stored with records, so never change it once people use the bot. */
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, { message: 'expected an id of up to 32 lower-case letters, digits or -' }),
    name: z.string().min(1),
    kind: z.enum(['town', 'commune', 'ward']),
    /** Other ways people write the name (old spellings, without the "xã"/"thị trấn" prefix). */
    aliases: z.array(z.string().min(1)).default([]),
    healthStation: healthStationSchema,
    /** Telegram chat id of the commune officials' group that receives its reports (null: the district group). */
    officialsTelegramChatId: z.string().regex(/^-?\d{1,20}$/, { message: 'expected a Telegram chat id such as "-1001234567890"' }).nullable().default(null),
    /** Who helps people of this commune with the app and online services; null when not known. */
    helpContact: helpContactSchema.nullable().default(null),
  })
  .strict();

export const hotlineSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9-]+$/),
    label: localized,
    number: phone,
    note: localized.optional(),
  })
  .strict();

export const localitySchema = z
  .object({
    schemaVersion: z.literal(1),
    id: z.string().regex(/^[a-z0-9-]+$/),
    district: localized,
    province: localized,
    /** The date the facts in this file describe (YYYY-MM-DD). */
    asOf: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, { message: 'expected a date YYYY-MM-DD' }),
    sources: z.array(z.string().min(1)).default([]),
    communes: z.array(communeSchema).min(1),
    hotlines: z.array(hotlineSchema).min(1),
    /** Health declarations and reports: where they go, how long they are kept. */
    records: z
      .object({
        /** IANA time zone for dates in reference numbers and the daily reminder hour. */
        timezone: z.string().min(1),
        /** Local hour (0-23) of the daily health-update reminder for people in home quarantine. */
        dailyReminderHour: z.number().int().min(0).max(23),
        /** Days of daily updates after a declaration that says "stay home". */
        quarantineDays: z.number().int().min(1).max(60),
        /** Days each kind of record is kept before it is deleted. */
        retentionDays: z.object({ declaration: z.number().int().min(1), symptoms: z.number().int().min(1), entrant: z.number().int().min(1) }).strict(),
        /** Reports a person may send in one hour, of each kind (symptom reports, reports of people, daily updates). */
        reportsPerHour: z.number().int().min(1),
        /** Health declarations a person may send in one hour (a family declares for several people). */
        declarationsPerHour: z.number().int().min(1).default(10),
        /**
         * Notices one officials' group receives in a minute; beyond it, the others of that minute are sent as one
         * digest message ("12 more reports, see the dashboard") instead of one message each.
         */
        noticesPerMinute: z.number().int().min(1).default(10),
      })
      .strict(),
    /** Venues that post a QR code: confirmation, check-in rules and how long check-ins are kept. */
    venues: venueSettingsSchema,
    area: districtAreaSchema,
    tracingApp: tracingAppSchema,
    qrCheckin: qrCheckinSchema,
    publicServices: publicServicesSchema,
    epidemic: epidemicSchema,
    /** The app campaign: targets, report, agencies and denominators (src/campaign/campaignSchema.ts). */
    campaign: campaignSchema,
  })
  .strict()
  .superRefine((loc, ctx) => {
    const ids = new Set<string>();
    loc.communes.forEach((c, i) => {
      if (ids.has(c.id)) ctx.addIssue({ code: 'custom', path: ['communes', i, 'id'], message: `commune id '${c.id}' is used twice` });
      ids.add(c.id);
    });
    if (Array.isArray(loc.venues.autoConfirm)) {
      loc.venues.autoConfirm.forEach((c, i) => {
        if (!ids.has(c)) ctx.addIssue({ code: 'custom', path: ['venues', 'autoConfirm', i], message: `unknown commune id '${c}'` });
      });
    }
    try {
      new Intl.DateTimeFormat('en-CA', { timeZone: loc.records.timezone });
    } catch {
      ctx.addIssue({ code: 'custom', path: ['records', 'timezone'], message: `unknown time zone '${loc.records.timezone}' (expected e.g. Asia/Ho_Chi_Minh)` });
    }
    checkGuidanceReferences(loc, ids, ctx);
    checkCampaignReferences(loc.campaign, ids, ctx);
  });

/** Catalogue and area entries must point at things that exist in the same file. */
function checkGuidanceReferences(
  loc: { publicServices: z.infer<typeof publicServicesSchema>; epidemic: z.infer<typeof epidemicSchema> },
  communeIds: Set<string>,
  ctx: z.RefinementCtx,
): void {
  const { portals, categories, procedures } = loc.publicServices;
  const portalIds = new Set(portals.map((p) => p.id));
  const categoryIds = new Set(categories.map((c) => c.id));
  const seen = new Set<string>();
  procedures.forEach((p, i) => {
    const at = ['publicServices', 'procedures', i];
    if (seen.has(p.id)) ctx.addIssue({ code: 'custom', path: [...at, 'id'], message: `procedure id '${p.id}' is used twice` });
    seen.add(p.id);
    if (!categoryIds.has(p.category)) ctx.addIssue({ code: 'custom', path: [...at, 'category'], message: `unknown category '${p.category}' (categories are: ${[...categoryIds].join(', ')})` });
    if (!portalIds.has(p.portal)) ctx.addIssue({ code: 'custom', path: [...at, 'portal'], message: `unknown portal '${p.portal}' (portals are: ${[...portalIds].join(', ')})` });
  });
  for (const list of ['checkpoints', 'isolationAreas', 'lockdownAreas'] as const) {
    loc.epidemic[list].forEach((a, i) => {
      if (a.commune !== null && !communeIds.has(a.commune)) ctx.addIssue({ code: 'custom', path: ['epidemic', list, i, 'commune'], message: `unknown commune id '${a.commune}'` });
      if (a.until !== null && a.until < a.from) ctx.addIssue({ code: 'custom', path: ['epidemic', list, i, 'until'], message: `'until' (${a.until}) is before 'from' (${a.from})` });
    });
  }
}

export type Locality = z.infer<typeof localitySchema>;
export type Commune = z.infer<typeof communeSchema>;

/** A locality file that cannot be used; each problem names the path inside the file. */
export class LocalityFileError extends OperatorError {
  constructor(readonly file: string, readonly problems: string[]) {
    super(`Invalid locality file ${file}:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
}

export function loadLocality(file: string, displayRoot = process.cwd()): Locality {
  const shown = path.relative(displayRoot, file) || file;
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found (check LOCALITY_FILE)' : `not valid JSON (${(err as Error).message})`;
    throw new LocalityFileError(shown, [why]);
  }
  const parsed = localitySchema.safeParse(raw);
  if (!parsed.success) {
    throw new LocalityFileError(
      shown,
      formatZodIssues(parsed.error.issues, '(file)'),
    );
  }
  return parsed.data;
}
