import { z } from 'zod';
import { localizedText } from '../locality/guidanceSchema';

/**
 * The campaign block of the locality file: the plan's targets and dates, the district's agencies, and the
 * denominators (population, smartphone users, officials) per commune and agency. Every denominator carries its
 * source and date; `value: null` means nobody has a sourced number yet, and the figure is then shown as a count
 * without a percentage (never an invented one).
 */

const date = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, { message: 'expected a date YYYY-MM-DD' });

export const sourcedFigureSchema = z
  .object({
    value: z.number().int().min(0).nullable(),
    /** Where the number comes from ("chưa có" when there is none yet). */
    source: z.string().min(1),
    /** The date the number describes; null when not known. */
    date: date.nullable(),
  })
  .strict();

const unknownFigure = { value: null, source: 'chưa có', date: null };

export const denominatorsSchema = z
  .object({
    population: sourcedFigureSchema.default(unknownFigure),
    smartphoneUsers: sourcedFigureSchema.default(unknownFigure),
    officials: sourcedFigureSchema.default(unknownFigure),
  })
  .strict();

export const targetSchema = z
  .object({
    percent: z.number().min(0).max(100),
    /** `above`: more than `percent` (the plan's "> 50 %"); `atLeast`: `percent` or more (the plan's "100 %"). */
    comparison: z.enum(['above', 'atLeast']),
    /** The date the target is due. */
    by: date.nullable(),
  })
  .strict();

export const campaignSchema = z
  .object({
    targets: z
      .object({
        /** Smartphone users who install the app and declare. */
        smartphoneUsers: targetSchema,
        /** Officials, civil servants, public employees and workers with a smartphone who install the app. */
        officials: targetSchema,
      })
      .strict(),
    /** The report every agency and commune sends up, and to whom. */
    report: z.object({ due: date, to: localizedText, title: localizedText }).strict(),
    /** The district as a whole (when only a district total is sourced). */
    district: denominatorsSchema,
    /** Per commune id of `communes`; a commune missing here has no denominators. */
    communes: z.record(z.string(), denominatorsSchema).default({}),
    /** The district's agencies whose officials are counted (a commune's office is counted with its commune). */
    agencies: z
      .array(
        z
          .object({
            id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, { message: 'expected an id of up to 32 lower-case letters, digits or -' }),
            name: z.string().min(1),
            aliases: z.array(z.string().min(1)).default([]),
            officials: sourcedFigureSchema.default(unknownFigure),
          })
          .strict(),
      )
      .default([]),
    /** Where the list of agencies and the denominators come from. */
    sources: z.array(z.string().min(1)).default([]),
  })
  .strict();

export type CampaignSettings = z.infer<typeof campaignSchema>;
export type SourcedFigure = z.infer<typeof sourcedFigureSchema>;
export type Denominators = z.infer<typeof denominatorsSchema>;
export type Target = z.infer<typeof targetSchema>;

/** Denominators must name communes of the file; agency ids are unique. */
export function checkCampaignReferences(campaign: CampaignSettings, communeIds: Set<string>, ctx: z.RefinementCtx): void {
  for (const id of Object.keys(campaign.communes)) {
    if (!communeIds.has(id)) ctx.addIssue({ code: 'custom', path: ['campaign', 'communes', id], message: `unknown commune id '${id}' (communes are: ${[...communeIds].join(', ')})` });
  }
  const seen = new Set<string>();
  campaign.agencies.forEach((a, i) => {
    if (seen.has(a.id)) ctx.addIssue({ code: 'custom', path: ['campaign', 'agencies', i, 'id'], message: `agency id '${a.id}' is used twice` });
    seen.add(a.id);
  });
}
