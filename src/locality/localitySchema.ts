import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

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
        /** Reports a person may send in one hour (symptom reports and reports of people). */
        reportsPerHour: z.number().int().min(1),
      })
      .strict(),
  })
  .strict()
  .superRefine((loc, ctx) => {
    const ids = new Set<string>();
    loc.communes.forEach((c, i) => {
      if (ids.has(c.id)) ctx.addIssue({ code: 'custom', path: ['communes', i, 'id'], message: `commune id '${c.id}' is used twice` });
      ids.add(c.id);
    });
    try {
      new Intl.DateTimeFormat('en-CA', { timeZone: loc.records.timezone });
    } catch {
      ctx.addIssue({ code: 'custom', path: ['records', 'timezone'], message: `unknown time zone '${loc.records.timezone}' (expected e.g. Asia/Ho_Chi_Minh)` });
    }
  });

export type Locality = z.infer<typeof localitySchema>;
export type Commune = z.infer<typeof communeSchema>;

/** A locality file that cannot be used; each problem names the path inside the file. */
export class LocalityFileError extends Error {
  constructor(readonly file: string, readonly problems: string[]) {
    super(`Invalid locality file ${file}:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'LocalityFileError';
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
      parsed.error.issues.map((i) => `${i.path.map(String).join('.') || '(file)'}: ${i.message}`),
    );
  }
  return parsed.data;
}
