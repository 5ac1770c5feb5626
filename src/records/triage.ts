import fs from 'node:fs';
import { z } from 'zod';
import type { JsonValue } from '../engine/types';
import { OperatorError, formatZodIssues } from '../errors';

/**
 * Triage as data (`rules/triage.json`): ordered rules over a declaration's answers; the first that holds gives the
 * level. The rule version is stored with every declaration, so a record can always be explained later.
 */

type Condition =
  | { answer: string; includesAny: string[] }
  | { answer: string; in: Array<string | number | boolean> }
  | { anyOf: Condition[] }
  | { allOf: Condition[] };

const conditionSchema: z.ZodType<Condition> = z.lazy(() =>
  z.union([
    z.object({ answer: z.string(), includesAny: z.array(z.string()).min(1) }).strict(),
    z.object({ answer: z.string(), in: z.array(z.union([z.string(), z.number(), z.boolean()])).min(1) }).strict(),
    z.object({ anyOf: z.array(conditionSchema).min(1) }).strict(),
    z.object({ allOf: z.array(conditionSchema).min(1) }).strict(),
  ]),
);

const levelSchema = z
  .object({
    urgency: z.enum(['urgent', 'notice', 'info']),
    /** Text key of the advice shown to the citizen. */
    advice: z.string().regex(/^triage\.\w+$/),
    offerDailyUpdates: z.boolean(),
  })
  .strict();

export const triageRulesSchema = z
  .object({
    version: z.string().min(1),
    notes: z.array(z.string()).optional(),
    levels: z.record(z.string().regex(/^\w+$/), levelSchema),
    rules: z.array(z.object({ level: z.string(), when: conditionSchema }).strict()),
    otherwise: z.string(),
  })
  .strict()
  .superRefine((r, ctx) => {
    r.rules.forEach((rule, i) => {
      if (!r.levels[rule.level]) ctx.addIssue({ code: 'custom', path: ['rules', i, 'level'], message: `unknown level '${rule.level}' (levels are: ${Object.keys(r.levels).join(', ')})` });
    });
    if (!r.levels[r.otherwise]) ctx.addIssue({ code: 'custom', path: ['otherwise'], message: `unknown level '${r.otherwise}'` });
  });

export type TriageRules = z.infer<typeof triageRulesSchema>;

export interface TriageResult {
  level: string;
  urgency: 'urgent' | 'notice' | 'info';
  advice: string;
  offerDailyUpdates: boolean;
  ruleVersion: string;
}

export class TriageRulesError extends OperatorError {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`Invalid triage rules ${file}:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
}

export function loadTriageRules(file: string, shownAs = file): TriageRules {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new TriageRulesError(shownAs, [(err as Error).message]);
  }
  const parsed = triageRulesSchema.safeParse(raw);
  if (!parsed.success) throw new TriageRulesError(shownAs, formatZodIssues(parsed.error.issues, '(file)'));
  return parsed.data;
}

function holds(c: Condition, answers: Readonly<Record<string, JsonValue>>): boolean {
  if ('anyOf' in c) return c.anyOf.some((x) => holds(x, answers));
  if ('allOf' in c) return c.allOf.every((x) => holds(x, answers));
  const value = answers[c.answer];
  if ('includesAny' in c) return Array.isArray(value) && c.includesAny.some((x) => value.includes(x));
  return c.in.some((x) => x === value);
}

export function triage(rules: TriageRules, answers: Readonly<Record<string, JsonValue>>): TriageResult {
  const level = rules.rules.find((r) => holds(r.when, answers))?.level ?? rules.otherwise;
  const def = rules.levels[level]!;
  return { level, urgency: def.urgency, advice: def.advice, offerDailyUpdates: def.offerDailyUpdates, ruleVersion: rules.version };
}
