import { z } from 'zod';

/**
 * The shape of a flow file (`flows/<id>.json`). Flows are data: texts are keys into `locales/`, validators,
 * actions and option lists are names registered in `src/`. Steps are addressed by id, never by position.
 */

const textKey = z.string().regex(/^[a-zA-Z][\w-]*(\.[\w-]+)+$/, { message: 'expected a text key such as "menu.title"' });
const stepId = z.string().regex(/^[a-zA-Z][a-zA-Z0-9_]{0,23}$/, { message: 'expected a step id: a letter, then up to 23 letters, digits or _' });
const optionId = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, { message: 'expected an option id: up to 32 lower-case letters, digits, _ or -' });
const flowId = z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/, { message: 'expected a flow id: up to 32 lower-case letters, digits, _ or -' });
/** Where an answer is kept: a name in the flow's answers, or `profile.locale` / `profile.commune`. */
const saveTarget = z.string().regex(/^(profile\.(locale|commune)|[a-zA-Z][a-zA-Z0-9_]{0,31})$/, {
  message: 'expected an answer name, or profile.locale / profile.commune',
});

const jsonScalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

export const optionSchema = z
  .object({
    id: optionId,
    label: textKey,
    /** Saved instead of the id when set. */
    value: jsonScalar.optional(),
    /** Step to go to when chosen (overrides the step's `next`). */
    next: stepId.optional(),
    /** Flow to start when chosen (menus). */
    flow: flowId.optional(),
    /** Extra words that choose this option, in any locale, compared without diacritics. */
    synonyms: z.array(z.string().min(1)).optional(),
    /**
     * A text variable (`registry.textVars`, e.g. `epidemicAreasListed`) that must be non-empty for this option to be
     * offered: an item whose data the locality file leaves empty is hidden, not answered with "nothing known".
     */
    requires: z.string().regex(/^[a-zA-Z]\w*$/).optional(),
    /** The yes (or no) words of every locale choose this option ("Anh/Chị muốn giấu tên không?" answered "có"). */
    means: z.enum(['yes', 'no']).optional(),
  })
  .strict();

const conditionSchema = z
  .object({
    answer: saveTarget,
    equals: jsonScalar.optional(),
    in: z.array(jsonScalar).optional(),
    /** For multi-choice answers: true when the list contains this option id. */
    includes: z.string().optional(),
    /** For multi-choice answers: true when the list contains any of these option ids. */
    includesAny: z.array(z.string()).optional(),
    isSet: z.boolean().optional(),
  })
  .strict()
  .refine((c) => [c.equals, c.in, c.includes, c.includesAny, c.isSet].filter((x) => x !== undefined).length === 1, {
    message: 'a condition needs exactly one of equals, in, includes, includesAny, isSet',
  });

/** Guidance pictures (ids of `src/guidance/guidanceCards.ts`) sent before the step's text, when the step is reached. */
const pictureIds = z.union([z.string(), z.array(z.string()).min(1).max(3)]).optional();

const common = {
  /** Shown by `help` in this step, instead of the general help. */
  help: textKey.optional(),
  picture: pictureIds,
};

const messageStep = z.object({ type: z.literal('message'), text: textKey, next: stepId, ...common }).strict();

const choiceStep = z
  .object({
    type: z.literal('choice'),
    text: textKey,
    options: z.array(optionSchema).min(1).max(40).optional(),
    /** A list registered in src/ (e.g. `communes` from the locality file). */
    optionsFrom: z.string().optional(),
    save: saveTarget.optional(),
    next: stepId.optional(),
    ...common,
  })
  .strict()
  .refine((s) => (s.options ? 1 : 0) + (s.optionsFrom ? 1 : 0) === 1, { message: 'a choice step needs either options or optionsFrom' });

const multiStep = z
  .object({
    type: z.literal('multi'),
    text: textKey,
    options: z.array(optionSchema).min(2).max(20),
    /** Options that cannot be combined with others (e.g. "none"). */
    exclusive: z.array(optionId).optional(),
    save: saveTarget,
    next: stepId,
    ...common,
  })
  .strict();

const inputStep = z
  .object({
    type: z.literal('input'),
    text: textKey,
    validator: z.string(),
    save: saveTarget,
    next: stepId,
    /** Offer the channel's "share my phone number" button. */
    requestPhone: z.boolean().optional(),
    /**
     * An entry step: a deep link or QR code may open the flow here, carrying this question's answer
     * (`<flow>__<step>__<answer>`, e.g. a venue code). The answer goes through the validator like a typed one; what
     * stores or sends still waits for the person's own tap further on.
     */
    entry: z.boolean().optional(),
    /** The skip words ("bỏ qua", "không đo được", ...) answer it with nothing (saved as null). */
    optional: z.boolean().optional(),
    ...common,
  })
  .strict();

const locationStep = z
  .object({ type: z.literal('location'), text: textKey, save: saveTarget, next: stepId, optional: z.boolean().optional(), ...common })
  .strict();

const photoStep = z
  .object({ type: z.literal('photo'), text: textKey, save: saveTarget, next: stepId, optional: z.boolean().optional(), ...common })
  .strict();

const summaryStep = z
  .object({
    type: z.literal('summary'),
    text: textKey,
    fields: z.array(z.object({ step: stepId, label: textKey }).strict()).min(1),
    /** Step after "confirm". */
    next: stepId,
    ...common,
  })
  .strict();

const branchStep = z
  .object({
    type: z.literal('branch'),
    cases: z.array(z.object({ when: conditionSchema, next: stepId }).strict()).min(1),
    otherwise: stepId,
  })
  .strict();

const actionStep = z
  .object({
    type: z.literal('action'),
    action: z.string(),
    next: stepId,
    /** Step to go to when the action answers with an expected failure; default: end the flow with its message. */
    onError: stepId.optional(),
  })
  .strict();

const gotoStep = z.object({ type: z.literal('goto'), flow: flowId, step: stepId.optional() }).strict();

const endStep = z
  .object({
    type: z.literal('end'),
    text: textKey.optional(),
    picture: pictureIds,
    /**
     * Offer a way back afterwards (default true): "1. Về menu" and the next steps in `offer`, instead of the whole
     * menu. False: nothing (the person is at rest).
     */
    menu: z.boolean().optional(),
    /** One or two next steps that make sense here: flows or `<flow>__<step>` entry steps. */
    offer: z.array(z.string().regex(/^[a-z][a-z0-9_-]{0,31}(__[a-zA-Z][a-zA-Z0-9_]{0,23})?$/)).max(2).optional(),
  })
  .strict();

export const stepSchema = z.discriminatedUnion('type', [
  messageStep,
  choiceStep,
  multiStep,
  inputStep,
  locationStep,
  photoStep,
  summaryStep,
  branchStep,
  actionStep,
  gotoStep,
  endStep,
]);

export const flowSchema = z
  .object({
    id: flowId,
    /** Bump when a change makes saved positions in this flow meaningless; users mid-flow restart it politely. */
    version: z.number().int().positive(),
    /** Name of the flow, shown when offering to resume it. */
    title: textKey,
    start: stepId,
    /**
     * Steps besides `start` that a deep link, a QR code or a typed request may open directly (e.g. the nearest
     * station). Any other step named by a link opens the flow at `start`. The loader checks that nothing is stored,
     * counted, sent or deleted between an entry step and the first question.
     */
    entries: z.array(stepId).optional(),
    /** Show "Question 3/9" on question steps. */
    progress: z.boolean().optional(),
    /** The first question that is numbered (a choice of what to do before the form is not "Question 1"). */
    progressFrom: stepId.optional(),
    /** Offer "continue where you left off" when a user comes back to this flow after a pause (default true). */
    resumable: z.boolean().optional(),
    /**
     * Who talks with the flow: `citizens` (default) in their private chats; `officials` only in the officials' group
     * chats (the `/thongbao` announcement). An officials' flow is in no menu, no intent and no deep link of citizens.
     */
    audience: z.enum(['citizens', 'officials']).optional(),
    steps: z.record(stepId, stepSchema),
  })
  .strict();

export type FlowDefinition = z.infer<typeof flowSchema>;
export type StepDefinition = z.infer<typeof stepSchema>;
export type OptionDefinition = z.infer<typeof optionSchema>;
export type Condition = z.infer<typeof conditionSchema>;
export type StepType = StepDefinition['type'];
export type FlowAudience = NonNullable<FlowDefinition['audience']>;

/** The picture ids a step names, as a list. */
export function stepPictures(step: StepDefinition): string[] {
  const p = 'picture' in step ? step.picture : undefined;
  return p === undefined ? [] : Array.isArray(p) ? p : [p];
}

/** Steps that wait for the user's answer. */
export const QUESTION_STEP_TYPES: ReadonlySet<StepType> = new Set(['choice', 'multi', 'input', 'location', 'photo', 'summary']);
