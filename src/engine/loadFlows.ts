import fs from 'node:fs';
import path from 'node:path';
import { flowSchema, QUESTION_STEP_TYPES, stepPictures, type FlowAudience, type FlowDefinition, type StepDefinition } from './flowSchema';
import type { Translator } from './contracts';
import { OperatorError, formatZodIssues } from '../errors';

/** All flows, parsed once at start-up, with what the engine precomputes from them. */
export interface FlowSet {
  byId: Map<string, FlowDefinition>;
  /** Question step ids of each flow in file order, for "Question 3/9". */
  questionOrder: Map<string, string[]>;
}

/** Flows that cannot be used. Each problem names the file and the path inside it. */
export class FlowValidationError extends OperatorError {
  constructor(readonly problems: string[]) {
    super(`Invalid flows (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
}

export interface FlowCheckContext {
  i18n: Translator;
  validators: readonly string[];
  actions: readonly string[];
  optionSources: readonly string[];
  /** Guidance pictures steps may name (`"picture"`). */
  pictures?: readonly string[];
  /** Actions that store, count, send and delete nothing: the only ones an entry step may reach before a question. */
  readOnlyActions: readonly string[];
  /** Flows the engine itself starts (onboarding, menu). */
  requiredFlows: readonly string[];
  /** Text keys the code uses on its own (the engine's hints, the actions', the channels' ...). */
  engineTextKeys: readonly string[];
  /** How file names are shown in messages (relative to the project root). */
  displayRoot: string;
}

/** Reads every `*.json` in `dir`, validates each flow and the references between them; throws FlowValidationError. */
export function loadFlows(dir: string, ctx: FlowCheckContext): FlowSet {
  const problems: string[] = [];
  const flows: Array<{ file: string; flow: FlowDefinition }> = [];
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort() : [];
  if (files.length === 0) throw new FlowValidationError([`${dir}: no flow files (*.json) found`]);

  for (const name of files) {
    const full = path.join(dir, name);
    const file = path.relative(ctx.displayRoot, full) || full;
    let raw: unknown;
    try {
      raw = JSON.parse(fs.readFileSync(full, 'utf8'));
    } catch (err) {
      problems.push(`${file}: not valid JSON (${(err as Error).message})`);
      continue;
    }
    const parsed = flowSchema.safeParse(raw);
    if (!parsed.success) {
      for (const line of formatZodIssues(parsed.error.issues, '(file)')) problems.push(`${file}: ${line}`);
      continue;
    }
    if (parsed.data.id !== path.basename(name, '.json')) {
      problems.push(`${file}: id: the flow id '${parsed.data.id}' must match the file name '${path.basename(name, '.json')}'`);
      continue;
    }
    flows.push({ file, flow: parsed.data });
  }

  const byId = new Map(flows.map(({ flow }) => [flow.id, flow]));
  for (const required of ctx.requiredFlows) {
    if (!byId.has(required)) problems.push(`flows/${required}.json: missing; the engine starts this flow itself`);
  }
  for (const { file, flow } of flows) problems.push(...checkFlow(file, flow, byId, ctx));

  const missingEngineKeys = ctx.engineTextKeys.flatMap((key) =>
    ctx.i18n.locales.filter((l) => !ctx.i18n.has(l, key)).map((l) => `locales/${l}/${key.split('.')[0]}.json: text key '${key}' (used by the code in src/) is missing in locale '${l}'`),
  );
  problems.push(...missingEngineKeys);

  if (problems.length > 0) throw new FlowValidationError(problems);

  const questionOrder = new Map<string, string[]>();
  for (const flow of byId.values()) {
    // The form is what comes before its summary (in file order); questions after it (follow-ups) are not counted.
    const entries = Object.entries(flow.steps);
    const summaryAt = entries.findIndex(([, step]) => step.type === 'summary');
    const fromAt = flow.progressFrom ? Math.max(0, entries.findIndex(([id]) => id === flow.progressFrom)) : 0;
    questionOrder.set(
      flow.id,
      (summaryAt >= 0 ? entries.slice(fromAt, summaryAt) : entries.slice(fromAt)).filter(([, step]) => QUESTION_STEP_TYPES.has(step.type)).map(([id]) => id),
    );
  }
  return { byId, questionOrder };
}

/**
 * The flows of one audience: citizens' engine never sees the officials' flows (so no link, intent or menu reaches
 * them), and the officials' engine sees only theirs.
 */
export function flowsFor(set: FlowSet, audience: FlowAudience): FlowSet {
  const ids = [...set.byId.keys()].filter((id) => (set.byId.get(id)!.audience ?? 'citizens') === audience);
  return { byId: new Map(ids.map((id) => [id, set.byId.get(id)!])), questionOrder: new Map(ids.map((id) => [id, set.questionOrder.get(id) ?? []])) };
}

/** Entry steps of a flow: its start and the steps it marks as entries. */
export function entrySteps(flow: FlowDefinition): string[] {
  return [flow.start, ...(flow.entries ?? [])];
}

/**
 * The first action that is not read-only reached from `from` through steps that run on their own (messages,
 * branches, actions), before any question; null when every path stops at a question, an end or another flow.
 */
function firstActingStep(flow: FlowDefinition, from: string, readOnly: readonly string[]): { step: string; action: string } | null {
  const seen = new Set<string>();
  const queue = [from];
  while (queue.length > 0) {
    const id = queue.shift()!;
    if (seen.has(id)) continue;
    seen.add(id);
    const step = flow.steps[id];
    if (!step) continue;
    switch (step.type) {
      case 'message':
        queue.push(step.next);
        break;
      case 'branch':
        queue.push(...step.cases.map((c) => c.next), step.otherwise);
        break;
      case 'action':
        if (!readOnly.includes(step.action)) return { step: id, action: step.action };
        queue.push(step.next, ...(step.onError ? [step.onError] : []));
        break;
      default:
        break;
    }
  }
  return null;
}

function checkFlow(file: string, flow: FlowDefinition, all: Map<string, FlowDefinition>, ctx: FlowCheckContext): string[] {
  const problems: string[] = [];
  const stepIds = Object.keys(flow.steps);
  const known = `steps are: ${stepIds.join(', ')}`;
  const stepRef = (where: string, id: string | undefined) => {
    if (id !== undefined && !flow.steps[id]) problems.push(`${file}: ${where}: unknown step id '${id}' (${known})`);
  };
  const textRef = (where: string, key: string | undefined) => {
    if (key === undefined) return;
    for (const locale of ctx.i18n.locales) {
      if (!ctx.i18n.has(locale, key)) problems.push(`${file}: ${where}: text key '${key}' is missing in locale '${locale}' (locales/${locale}/${key.split('.')[0]}.json)`);
    }
  };
  const flowRef = (where: string, id: string, step?: string) => {
    const target = all.get(id);
    if (!target) problems.push(`${file}: ${where}: unknown flow '${id}' (flows are: ${[...all.keys()].join(', ')})`);
    else if ((target.audience ?? 'citizens') !== (flow.audience ?? 'citizens')) {
      problems.push(`${file}: ${where}: flow '${id}' is for ${target.audience ?? 'citizens'}, this one for ${flow.audience ?? 'citizens'}: a flow leads only to flows of its own audience`);
    } else if (step !== undefined && !target.steps[step]) problems.push(`${file}: ${where}: flow '${id}' has no step '${step}'`);
  };

  stepRef('start', flow.start);
  stepRef('progressFrom', flow.progressFrom);
  (flow.entries ?? []).forEach((id, i) => stepRef(`entries.${i}`, id));
  textRef('title', flow.title);
  for (const entry of [flow.start, ...(flow.entries ?? [])]) {
    const acting = firstActingStep(flow, entry, ctx.readOnlyActions);
    if (acting) {
      problems.push(
        `${file}: ${entry === flow.start ? 'start' : `entries (step '${entry}')`}: a link to this step would run action '${acting.action}' (step '${acting.step}') before the person answers anything; put a question (a confirmation) before it, or open the flow elsewhere`,
      );
    }
  }
  for (const [id, step] of Object.entries(flow.steps) as Array<[string, StepDefinition]>) {
    const at = `steps.${id}`;
    if ('text' in step) textRef(`${at}.text`, step.text);
    if ('help' in step) textRef(`${at}.help`, step.help);
    for (const picture of stepPictures(step)) {
      if (!(ctx.pictures ?? []).includes(picture)) problems.push(`${file}: ${at}.picture: unknown picture '${picture}' (known: ${(ctx.pictures ?? []).join(', ') || 'none'})`);
    }
    switch (step.type) {
      case 'message':
        stepRef(`${at}.next`, step.next);
        break;
      case 'choice':
      case 'multi': {
        stepRef(`${at}.next`, step.next);
        const seen = new Set<string>();
        (step.options ?? []).forEach((o, i) => {
          if (seen.has(o.id)) problems.push(`${file}: ${at}.options.${i}.id: option id '${o.id}' is used twice in this step`);
          seen.add(o.id);
          textRef(`${at}.options.${i}.label`, o.label);
          stepRef(`${at}.options.${i}.next`, o.next);
          if (o.flow) flowRef(`${at}.options.${i}.flow`, o.flow);
          if (step.type === 'choice' && !o.next && !o.flow && !step.next) {
            problems.push(`${file}: ${at}.options.${i}: the option needs 'next' or 'flow' because the step has no 'next'`);
          }
          if (step.type === 'multi' && (o.next || o.flow)) problems.push(`${file}: ${at}.options.${i}: options of a multi step cannot have 'next' or 'flow'`);
          if (o.id === 'done' || o.id === 'skip' || o.id === 'confirm' || o.id === 'edit') {
            problems.push(`${file}: ${at}.options.${i}.id: '${o.id}' is reserved by the engine`);
          }
        });
        if (step.type === 'choice' && step.optionsFrom) {
          if (!ctx.optionSources.includes(step.optionsFrom)) {
            problems.push(`${file}: ${at}.optionsFrom: unknown option list '${step.optionsFrom}' (known: ${ctx.optionSources.join(', ')})`);
          }
          if (!step.next) problems.push(`${file}: ${at}.next: a step with optionsFrom needs 'next'`);
        }
        if (step.type === 'multi') {
          for (const ex of step.exclusive ?? []) {
            if (!seen.has(ex)) problems.push(`${file}: ${at}.exclusive: '${ex}' is not one of the step's options`);
          }
        }
        break;
      }
      case 'input':
        stepRef(`${at}.next`, step.next);
        if (!ctx.validators.includes(step.validator)) {
          problems.push(`${file}: ${at}.validator: unknown validator '${step.validator}' (known: ${ctx.validators.join(', ')})`);
        }
        break;
      case 'location':
      case 'photo':
        stepRef(`${at}.next`, step.next);
        break;
      case 'summary':
        stepRef(`${at}.next`, step.next);
        step.fields.forEach((f, i) => {
          stepRef(`${at}.fields.${i}.step`, f.step);
          textRef(`${at}.fields.${i}.label`, f.label);
          const target = flow.steps[f.step];
          if (target && (!('save' in target) || !target.save)) problems.push(`${file}: ${at}.fields.${i}.step: step '${f.step}' saves no answer`);
        });
        break;
      case 'branch':
        step.cases.forEach((c, i) => stepRef(`${at}.cases.${i}.next`, c.next));
        stepRef(`${at}.otherwise`, step.otherwise);
        break;
      case 'action':
        stepRef(`${at}.next`, step.next);
        stepRef(`${at}.onError`, step.onError);
        if (!ctx.actions.includes(step.action)) {
          problems.push(`${file}: ${at}.action: unknown action '${step.action}' (known: ${ctx.actions.join(', ') || 'none'})`);
        }
        break;
      case 'goto':
        flowRef(`${at}.flow`, step.flow, step.step);
        break;
      case 'end':
        textRef(`${at}.text`, step.text);
        (step.offer ?? []).forEach((target, i) => {
          const [flowId, stepId] = target.split('__') as [string, string | undefined];
          flowRef(`${at}.offer.${i}`, flowId, stepId);
          const to = all.get(flowId);
          if (to && stepId && stepId !== to.start && !(to.entries ?? []).includes(stepId)) problems.push(`${file}: ${at}.offer.${i}: step '${stepId}' is not an entry of flow '${flowId}' (list it in its "entries")`);
        });
        break;
      default: {
        const unreachable: never = step;
        problems.push(`${file}: ${at}: unknown step ${JSON.stringify(unreachable)}`);
      }
    }
  }
  return problems;
}
