import type { EngineRegistry, Translator } from './contracts';
import { stepPictures, type Condition, type FlowDefinition, type OptionDefinition, type StepDefinition } from './flowSchema';
import { flowOf, type IntentMatcher } from './intents';
import type { FlowSet } from './loadFlows';
import { cleanTypedText, normalizeText, parseOptionNumber } from './normalize';
import { formatPhoneVN } from './phone';
import { answersOptions, matchTypedOption } from './optionAnswer';
import { parseChoiceReply, parseEnginePick, parseInputReply, parseLocationReply, parseMultiReply, parsePhotoReply, parseResumeReply, parseSummaryReply, type ValueReply } from './replyParsers';
import { matchGlobalCommand, type GlobalCommand, type WordLists } from './words';
import {
  createSession,
  type InboundEvent,
  type JsonValue,
  type Locale,
  type Reply,
  type ReplyOption,
  type Session,
} from './types';

/**
 * The flow a voice message starts (the bot cannot read speech: it asks whether an officer may call back). Its
 * first answer, `voice`, is the recording's reference. Without this flow a voice message is an unreadable answer.
 */
export const VOICE_FLOW = 'callback';

/** The language menu, shown by the "language" command when more than two languages are on offer. */
export const LANGUAGE_FLOW = 'language';

export interface EngineOptions {
  defaultLocale: Locale;
  /** After this long without a message, a user in the middle of a flow is asked whether to continue. */
  resumeAfterMs: number;
  onboardingFlow: string;
  menuFlow: string;
  /**
   * Understands a typed message that answers no question (at the menu, or at a question with options) and offers
   * the flow it asks for. Without it, such messages only get the hint.
   */
  intents?: IntentMatcher;
  /** Navigation, yes/no, unsubscribe and filler words of every locale (`locales/<lang>/words.json`). */
  words: WordLists;
  /**
   * Where unsubscribe words ("hủy nhận tin", "dừng", "stop", ...) lead, in any state: a flow or `<flow>__<step>`
   * that stops the announcements. Without it they are not commands.
   */
  unsubscribeTarget?: string;
}

/** After this many misunderstood messages in a row, the commune's contact is offered. */
const MISSES_BEFORE_CONTACT = 3;

export interface EngineResult {
  session: Session;
  replies: Reply[];
}

/** A flow definition that makes the engine loop or jump nowhere: a bug in flows/, not bad user input. */
export class FlowRuntimeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FlowRuntimeError';
  }
}

const MAX_AUTOMATIC_STEPS = 50;
const ENGINE_BUTTON = '$';

/** Mutable state of one `handle` call. */
interface Turn {
  s: Session;
  replies: Reply[];
  event: InboundEvent;
  now: number;
  /** This event was not understood (a hint or the out-of-scope answer was given). */
  missed?: boolean;
}

/**
 * The flow interpreter. It takes the stored session and one event and returns the next session and the replies.
 * It keeps no state of its own between calls; actions are the only side effects, and they are keyed by event id.
 */
export class Engine {
  constructor(
    private readonly flows: FlowSet,
    private readonly i18n: Translator,
    private readonly registry: EngineRegistry,
    private readonly options: EngineOptions,
  ) {}

  /**
   * The follow-up questions asked over a flow's own question (`session.sub`), each asked and answered here and
   * nowhere else. `beforePause`: answered even after a long pause (it is itself about where to go next); the others
   * wait behind "continue where you left off?".
   */
  private readonly followUps: Record<NonNullable<Session['sub']>, { ask: (turn: Turn) => void; answer: (turn: Turn) => Promise<void>; beforePause: boolean }> = {
    resume: { ask: (turn) => this.offerResume(turn), answer: (turn) => this.answerResume(turn), beforePause: true },
    guess: { ask: (turn) => this.offerGuesses(turn), answer: (turn) => this.answerGuess(turn), beforePause: true },
    after: {
      ask: (turn) => this.push(turn, { kind: 'choices', text: this.text(turn.s, 'engine.afterQuestion'), options: this.afterOptions(turn.s) }),
      answer: (turn) => this.answerAfter(turn),
      beforePause: true,
    },
    'pick-field': {
      ask: (turn) => {
        const step = this.currentStep(turn.s);
        if (step?.type === 'summary') this.askPickField(turn, step);
        else this.askStep(turn);
      },
      answer: (turn) => this.answerPickField(turn),
      beforePause: false,
    },
  };

  async handle(stored: Session | null, event: InboundEvent, now: number): Promise<EngineResult> {
    const turn: Turn = { s: stored ? structuredClone(stored) : createSession(now), replies: [], event, now };
    const idleMs = stored ? now - stored.updatedAt : 0;
    await this.dispatch(turn, idleMs, stored === null);
    if (!turn.missed) delete turn.s.misses;
    turn.s.updatedAt = now;
    return { session: turn.s, replies: turn.replies };
  }

  /** The replies that ask the user's current question again (after a reload, a duplicate request, ...). */
  currentPrompt(session: Session | null): Reply[] {
    const turn: Turn = {
      s: session ? structuredClone(session) : createSession(0),
      replies: [],
      event: { channel: 'web', userId: '', eventId: '', kind: 'start' },
      now: 0,
    };
    if (!this.positionIsValid(turn.s) || !turn.s.flow) return [];
    this.askCurrent(turn);
    return turn.replies;
  }

  // ---- dispatch -------------------------------------------------------------------------------------------

  private async dispatch(turn: Turn, idleMs: number, isNew: boolean): Promise<void> {
    const { s, event } = turn;

    if (!this.positionIsValid(s)) {
      // The flow was changed or removed since this session was saved: start again politely, keep the profile.
      this.say(turn, 'engine.flowChanged');
      this.resetPosition(s);
      await this.startHome(turn);
      return;
    }

    if (event.kind === 'start') {
      await this.handleStart(turn, idleMs);
      return;
    }

    if (event.kind === 'voice') {
      await this.startVoiceCallback(turn, event.fileRef);
      return;
    }

    if (isNew || !s.flow) {
      // A first message from someone new, or from someone at rest: start where they should be.
      if (event.kind === 'text') {
        const command = this.command(event.text);
        if (command?.kind === 'unsubscribe') {
          await this.runCommand(turn, command);
          return;
        }
        if (command?.kind === 'language' && command.to) s.profile.locale = command.to;
        else if (!this.isOnboarded(s)) this.rememberIntentForAfterOnboarding(turn, event.text);
        else if (!command && (await this.startSureIntent(turn, event.text))) return;
      }
      await this.startHome(turn);
      return;
    }

    const command = event.kind === 'text' ? this.command(event.text) : this.engineButtonCommand(event);
    // The current question's own options win over navigation words ("Tiếng Việt" at the language question, "không"
    // at a yes/no question); unsubscribe words work in any state.
    if (command && (command.kind === 'unsubscribe' || !(event.kind === 'text' && s.sub === null && this.answersCurrentQuestion(s, event.text)))) {
      await this.runCommand(turn, command);
      return;
    }

    const followUp = s.sub ? this.followUps[s.sub] : null;
    if (followUp?.beforePause) {
      await followUp.answer(turn);
      return;
    }

    const flow = this.flow(s.flow);
    if (idleMs > this.options.resumeAfterMs && flow.resumable !== false && s.history.length > 0) {
      this.offerResume(turn);
      return;
    }

    if (followUp) {
      await followUp.answer(turn);
      return;
    }

    await this.answerStep(turn);
  }

  private async handleStart(turn: Turn, idleMs: number): Promise<void> {
    const { s, event } = turn;
    const payload = event.kind === 'start' ? event.payload?.trim() : undefined;
    if (payload) {
      const target = this.resolveDeepLink(payload);
      if (target && this.isOnboarded(s)) {
        await this.openDeepLink(turn, target);
        return;
      }
      if (target) s.pendingStart = payload;
    }
    if (!this.isOnboarded(s)) {
      if (s.flow === this.options.onboardingFlow && s.step) {
        this.askCurrent(turn);
        return;
      }
      await this.startFlow(turn, this.options.onboardingFlow);
      return;
    }
    const flow = s.flow ? this.flow(s.flow) : null;
    if (flow && flow.id !== this.options.menuFlow && s.history.length > 0 && flow.resumable !== false) {
      if (idleMs > this.options.resumeAfterMs || s.sub === 'resume') this.offerResume(turn);
      else this.askCurrent(turn);
      return;
    }
    await this.startFlow(turn, this.options.menuFlow);
  }

  /**
   * Payload `<flow>`, `<flow>__<step>`, or `<flow>__<step>__<answer>`; null when it names no flow. Only an entry step
   * (`start`, `entries`, or a step marked `entry`) can be opened: any other step opens the flow at its start, so a link
   * never lands past a question (a confirmation). An answer is carried only to an input step marked `entry` (a venue's
   * QR code carries its code), and is checked like a typed one.
   */
  private resolveDeepLink(payload: string): { flow: string; step?: string; answer?: string } | null {
    const [flowId, stepId, answer] = payload.split('__', 3) as [string, string | undefined, string | undefined];
    const flow = this.flows.byId.get(flowId);
    if (!flow || flow.id === this.options.onboardingFlow) return null;
    const step = stepId ? flow.steps[stepId] : undefined;
    if (!stepId || !step) return { flow: flowId };
    const markedEntry = 'entry' in step && step.entry === true;
    if (answer !== undefined) return step.type === 'input' && markedEntry && answer !== '' ? { flow: flowId, step: stepId, answer } : { flow: flowId };
    if (stepId === flow.start || (!markedEntry && !flow.entries?.includes(stepId))) return { flow: flowId };
    return { flow: flowId, step: stepId };
  }

  /** Opens what a deep link names; an answer it carries is checked like a typed one, and nothing else happens. */
  private async openDeepLink(turn: Turn, target: { flow: string; step?: string; answer?: string }): Promise<void> {
    if (target.answer === undefined) {
      await this.startFlow(turn, target.flow, target.step);
      return;
    }
    this.enterFlow(turn.s, target.flow);
    turn.s.step = target.step!;
    const step = this.flow(target.flow).steps[target.step!] as Extract<StepDefinition, { type: 'input' }>;
    await this.answerInput({ ...turn, event: { ...turn.event, kind: 'text', text: target.answer } }, step);
  }

  private engineButtonCommand(event: InboundEvent): GlobalCommand | null {
    if (event.kind !== 'choice' || !event.optionId.startsWith(`${ENGINE_BUTTON}:`)) return null;
    const name = event.optionId.slice(2);
    if (name === 'menu' || name === 'back' || name === 'cancel' || name === 'help') return { kind: name };
    return null;
  }

  /** The navigation or unsubscribe command a whole message stands for; unsubscribing may be in the person's own words. */
  private command(text: string): GlobalCommand | null {
    const command = matchGlobalCommand(text, this.options.words) ?? (this.options.intents?.unsubscribes?.(text) ? ({ kind: 'unsubscribe' } as const) : null);
    return command?.kind === 'unsubscribe' && !this.options.unsubscribeTarget ? null : command;
  }

  private async runCommand(turn: Turn, command: GlobalCommand): Promise<void> {
    const { s } = turn;
    switch (command.kind) {
      case 'unsubscribe': {
        // Typed by the person (their intent, not a link): the step that stops the announcements runs at once.
        const [flowId, stepId] = this.options.unsubscribeTarget!.split('__', 2) as [string, string | undefined];
        const flow = this.enterFlow(turn.s, flowId);
        await this.enterStep(turn, stepId ?? flow.start, false);
        return;
      }
      case 'start':
        await this.handleStart(turn, 0);
        return;
      case 'menu':
        this.resetPosition(s);
        await this.startHome(turn);
        return;
      case 'cancel': {
        const inRealFlow = s.flow !== this.options.menuFlow && s.flow !== null;
        if (inRealFlow && s.flow !== this.options.onboardingFlow) this.say(turn, 'engine.cancelled');
        this.resetPosition(s);
        await this.startHome(turn);
        return;
      }
      case 'back': {
        if (s.sub === 'guess') {
          // "Back" at a did-you-mean returns to the question that was being asked.
          s.sub = null;
          delete s.guesses;
          this.askCurrent(turn);
          return;
        }
        s.sub = null;
        delete s.guesses;
        s.multiDraft = null;
        const previous = s.history.pop();
        if (!previous && s.flow !== this.options.menuFlow && s.flow !== this.options.onboardingFlow) {
          // Back from the first question of a service leads to the menu it was chosen from.
          this.resetPosition(s);
          await this.startHome(turn);
          return;
        }
        if (!previous) {
          this.say(turn, 'engine.backNone');
          this.askCurrent(turn);
          return;
        }
        s.step = previous;
        s.returnTo = null;
        this.askCurrent(turn);
        return;
      }
      case 'help': {
        const step = this.currentStep(s);
        const helpKey = step && 'help' in step && step.help ? step.help : 'engine.help';
        this.say(turn, helpKey);
        this.askCurrent(turn);
        return;
      }
      case 'language': {
        const current = this.locale(s);
        // With two languages "language" switches to the other; with more, it shows the language menu.
        if (!command.to && this.i18n.locales.length > 2 && this.flows.byId.has(LANGUAGE_FLOW)) {
          await this.startFlow(turn, LANGUAGE_FLOW);
          return;
        }
        const to = command.to ?? this.i18n.locales.find((l) => l !== current) ?? current;
        s.profile.locale = to;
        this.say(turn, 'engine.languageChanged');
        if (!s.step) await this.startHome(turn);
        else this.askCurrent(turn);
        return;
      }
      default: {
        const unreachable: never = command;
        throw new FlowRuntimeError(`Unknown command ${JSON.stringify(unreachable)}`);
      }
    }
  }

  // ---- resume ---------------------------------------------------------------------------------------------

  private offerResume(turn: Turn): void {
    const { s } = turn;
    s.sub = 'resume';
    const flow = this.flow(s.flow!);
    this.push(turn, {
      kind: 'choices',
      text: this.text(s, 'engine.resumeQuestion', { flow: this.text(s, flow.title) }),
      options: [
        { id: `${ENGINE_BUTTON}:continue`, label: this.text(s, 'engine.resumeContinue'), number: 1 },
        { id: `${ENGINE_BUTTON}:restart`, label: this.text(s, 'engine.resumeRestart'), number: 2 },
      ],
    });
  }

  private async answerResume(turn: Turn): Promise<void> {
    const { s, event } = turn;
    const labels = { continue: this.text(s, 'engine.resumeContinue'), restart: this.text(s, 'engine.resumeRestart') };
    const pick = parseResumeReply(event, ENGINE_BUTTON, labels, this.options.words);
    if (!pick) {
      this.say(turn, 'engine.hintChoice', { max: 2 });
      this.offerResume(turn);
      return;
    }
    s.sub = null;
    if (pick === 'continue') {
      this.askCurrent(turn);
      return;
    }
    const flowId = s.flow!;
    await this.startFlow(turn, flowId);
  }

  // ---- answering the current step -------------------------------------------------------------------------

  private async answerStep(turn: Turn): Promise<void> {
    const { s, event } = turn;
    const step = this.currentStep(s);
    if (!step) {
      await this.startHome(turn);
      return;
    }

    // A tap on a button of an earlier question.
    if (event.kind === 'choice' && !event.optionId.startsWith(`${s.step}:`)) {
      this.say(turn, 'engine.staleButton');
      this.askCurrent(turn);
      return;
    }

    switch (step.type) {
      case 'choice':
        return this.answerChoice(turn, step);
      case 'multi':
        return this.answerMulti(turn, step);
      case 'input':
        return this.answerInput(turn, step);
      case 'location':
        return this.answerLocation(turn, step);
      case 'photo':
        return this.answerPhoto(turn, step);
      case 'summary':
        return this.answerSummary(turn, step);
      case 'message':
      case 'branch':
      case 'action':
      case 'goto':
      case 'end':
        // Automatic steps are never current when waiting for an answer; recover by running from here.
        await this.advance(turn, s.step!);
        return;
      default: {
        const unreachable: never = step;
        throw new FlowRuntimeError(`Unknown step type in ${JSON.stringify(unreachable)}`);
      }
    }
  }

  private async answerChoice(turn: Turn, step: Extract<StepDefinition, { type: 'choice' }>): Promise<void> {
    const { s, event } = turn;
    const options = this.choiceOptions(s, step);
    const reply = parseChoiceReply(event, s.step!, options, this.options.words, s.flow !== this.options.menuFlow);
    if (reply.kind === 'fail') {
      if (await this.divertToIntent(turn)) return;
      this.noteMiss(turn);
      this.reask(turn, 'engine.hintChoice', { max: options.length });
      return;
    }
    const picked = reply.option;
    if (picked.flow) {
      await this.startFlow(turn, picked.flow);
      return;
    }
    this.save(s, step.save, picked.value ?? picked.id);
    await this.moveOn(turn, picked.next ?? step.next);
  }

  private async answerMulti(turn: Turn, step: Extract<StepDefinition, { type: 'multi' }>): Promise<void> {
    const { s, event } = turn;
    const options = this.staticOptions(s, step.options);
    const reply = parseMultiReply(event, s.step!, options, s.multiDraft, this.options.words);
    if (reply.kind === 'toggle') {
      s.multiDraft = reply.draft;
      this.askCurrent(turn);
      return;
    }
    if (reply.kind === 'empty') {
      this.reask(turn, 'engine.hintMultiEmpty');
      return;
    }
    const chosen = reply.kind === 'answer' ? reply.ids : null;

    if (!chosen) {
      if (await this.divertToIntent(turn)) return;
      this.noteMiss(turn);
      this.reask(turn, 'engine.hintMulti', { max: options.length });
      return;
    }
    const exclusive = new Set(step.exclusive ?? []);
    if (chosen.length > 1 && chosen.some((id) => exclusive.has(id))) {
      const label = options.find((o) => exclusive.has(o.id))?.label ?? '';
      s.multiDraft = null;
      this.reask(turn, 'engine.hintMultiExclusive', { option: label });
      return;
    }
    s.multiDraft = null;
    this.save(s, step.save, chosen);
    await this.moveOn(turn, step.next);
  }

  private async answerInput(turn: Turn, step: Extract<StepDefinition, { type: 'input' }>): Promise<void> {
    const { s } = turn;
    const reply = parseInputReply(turn.event, step, this.options.words);
    if (reply.kind !== 'answer') {
      await this.actOnValueReply(turn, step, reply, step.requestPhone ? 'engine.hintPhone' : 'engine.hintText');
      return;
    }
    const validator = this.registry.validators[step.validator];
    if (!validator) throw new FlowRuntimeError(`Flow '${s.flow}', step '${s.step}': unknown validator '${step.validator}'`);
    const result = validator(cleanTypedText(reply.value), { locale: this.locale(s), now: turn.now });
    if (!result.ok) {
      this.reask(turn, result.error, result.vars);
      return;
    }
    await this.actOnValueReply(turn, step, { kind: 'answer', value: result.value }, '');
  }

  private async answerLocation(turn: Turn, step: Extract<StepDefinition, { type: 'location' }>): Promise<void> {
    const reply = parseLocationReply(turn.event, turn.s.step!, step.optional ?? false, this.options.words);
    if (reply.kind === 'fail') {
      if (await this.divertToIntent(turn)) return;
      this.noteMiss(turn);
    }
    await this.actOnValueReply(turn, step, reply, step.optional ? 'engine.hintLocationOptional' : 'engine.hintLocation');
  }

  private async answerPhoto(turn: Turn, step: Extract<StepDefinition, { type: 'photo' }>): Promise<void> {
    const reply = parsePhotoReply(turn.event, turn.s.step!, step.optional ?? false, this.options.words);
    await this.actOnValueReply(turn, step, reply, step.optional ? 'engine.hintPhotoOptional' : 'engine.hintPhoto');
  }

  /** Saves an answer (null for a skip) and moves on, or asks the question again with the hint. */
  private async actOnValueReply(turn: Turn, step: { save?: string; next?: string }, reply: ValueReply<JsonValue>, hintKey: string): Promise<void> {
    if (reply.kind === 'fail') {
      this.reask(turn, hintKey);
      return;
    }
    this.save(turn.s, step.save, reply.kind === 'answer' ? reply.value : null);
    await this.moveOn(turn, step.next);
  }

  private async answerSummary(turn: Turn, step: Extract<StepDefinition, { type: 'summary' }>): Promise<void> {
    const { s, event } = turn;
    const pick = parseSummaryReply(event, s.step!, this.options.words);
    if (!pick) {
      this.reask(turn, 'engine.hintChoice', { max: 2 });
      return;
    }
    if (pick === 'edit') {
      s.sub = 'pick-field';
      this.askPickField(turn, step);
      return;
    }
    s.history.push(s.step!);
    await this.advance(turn, step.next);
  }

  private askPickField(turn: Turn, step: Extract<StepDefinition, { type: 'summary' }>): void {
    const { s } = turn;
    this.push(turn, {
      kind: 'choices',
      text: this.text(s, 'engine.pickField'),
      options: step.fields.map((f, i) => ({ id: `${s.step}:f${i}`, label: this.text(s, f.label), number: i + 1 })),
    });
  }

  private async answerPickField(turn: Turn): Promise<void> {
    const { s, event } = turn;
    const step = this.currentStep(s);
    if (!step || step.type !== 'summary') {
      s.sub = null;
      this.askCurrent(turn);
      return;
    }
    let index: number | null = null;
    if (event.kind === 'choice') {
      const m = /:f(\d+)$/.exec(event.optionId);
      if (m) index = Number(m[1]);
    } else if (event.kind === 'text') {
      const n = parseOptionNumber(event.text);
      if (n !== null) index = n - 1;
      else {
        const labels = step.fields.map((f, i) => ({ id: String(i), label: this.text(s, f.label) }));
        const hit = this.matchOption(labels, event.text);
        if (hit) index = Number(hit.id);
      }
    }
    const field = index !== null ? step.fields[index] : undefined;
    if (!field) {
      this.say(turn, 'engine.hintChoice', { max: step.fields.length });
      this.askPickField(turn, step);
      return;
    }
    s.sub = null;
    s.returnTo = s.step;
    s.history.push(s.step!);
    s.step = field.step;
    this.askCurrent(turn);
  }

  // ---- understanding typed messages (intents) --------------------------------------------------------------

  /**
   * A typed message that answers nothing at a question with options (or at the menu): when it asks for a flow, start
   * it (at the menu, when sure) or offer the best guesses, with "go on with this question" when in a flow. Free-text
   * answers (input steps) and onboarding never come here. Returns false when the message asks for nothing.
   */
  private async divertToIntent(turn: Turn): Promise<boolean> {
    const { s, event } = turn;
    const matcher = this.options.intents;
    if (!matcher || event.kind !== 'text') return false;
    if (s.flow === this.options.onboardingFlow) {
      this.rememberIntentForAfterOnboarding(turn, event.text);
      return false;
    }
    const atMenu = s.flow === this.options.menuFlow;
    const typed = normalizeText(event.text);
    // A bare yes/no word in a question is an answer (an unclear one), never a request for another flow.
    if (!atMenu && (this.options.words.yes.has(typed) || this.options.words.no.has(typed))) return false;
    const match = matcher.match(event.text);
    switch (match.kind) {
      case 'greeting':
        this.askCurrent(turn);
        return true;
      case 'thanks':
        this.say(turn, 'engine.thanks');
        if (!atMenu) this.askCurrent(turn);
        return true;
      case 'menu':
        this.resetPosition(s);
        await this.startHome(turn);
        return true;
      case 'emergency':
        // A danger sign: "call 115" comes before any question, then the symptoms flow (unless already in it).
        this.say(turn, 'engine.emergency');
        if (flowOf(match.target) === s.flow) this.askCurrent(turn);
        else await this.startIntent(turn, match.target, false);
        return true;
      case 'none':
        if (!atMenu) return false;
        // Out of scope at the menu: one honest sentence about what the bot does, then the menu.
        this.noteMiss(turn);
        this.say(turn, 'engine.outOfScope');
        this.askCurrent(turn);
        return true;
      case 'sure':
      case 'unsure':
        break;
      default: {
        const unreachable: never = match;
        throw new FlowRuntimeError(`Unknown intent match ${JSON.stringify(unreachable)}`);
      }
    }
    const within = match.kind === 'sure' ? this.resolveDeepLink(match.target) : null;
    if (within && within.flow === s.flow && within.step && within.step !== s.step) {
      // A step of the flow the person is in ("bản đồ" while reading epidemic information): go there, "back" returns.
      s.history.push(s.step!);
      await this.enterStep(turn, within.step, true);
      return true;
    }
    const targets = (match.kind === 'sure' ? [match.target] : match.targets).filter((t) => {
      const to = this.resolveDeepLink(t);
      return to !== null && to.flow !== s.flow;
    });
    if (targets.length === 0) return false;
    if (match.kind === 'sure' && s.flow === this.options.menuFlow) {
      await this.startIntent(turn, targets[0]!);
      return true;
    }
    s.sub = 'guess';
    s.guesses = targets;
    this.offerGuesses(turn);
    return true;
  }

  /**
   * Starts what an intent names: a flow, or a flow at a step (`<flow>__<step>`). When that step is a question that
   * takes typed words (a search), the message itself is its answer: "giấy khai sinh" searches for "giấy khai sinh".
   */
  private async startIntent(turn: Turn, target: string, messageAnswers = true): Promise<void> {
    const to = this.resolveDeepLink(target);
    if (!to) throw new FlowRuntimeError(`Intent target '${target}' names no flow or step`);
    this.enterFlow(turn.s, to.flow);
    await this.enterStep(turn, to.step ?? this.flow(to.flow).start, messageAnswers);
  }

  /** Runs from a step of the current flow; a question that takes typed words gets the message as its answer. */
  private async enterStep(turn: Turn, stepId: string, messageAnswers: boolean): Promise<void> {
    const step = this.flow(turn.s.flow!).steps[stepId];
    if (messageAnswers && step?.type === 'input' && turn.event.kind === 'text') {
      turn.s.step = stepId;
      await this.answerInput(turn, step);
      return;
    }
    await this.advance(turn, stepId);
  }

  /**
   * Someone at rest (after a flow that ended without the menu, such as a check-in) who types a clear request
   * ("rời đi") is taken there, as at the menu. Returns false when the message asks for nothing clear.
   */
  private async startSureIntent(turn: Turn, text: string): Promise<boolean> {
    const match = this.options.intents?.match(text);
    if (match?.kind !== 'sure' || !this.resolveDeepLink(match.target)) return false;
    await this.startIntent(turn, match.target);
    return true;
  }

  /**
   * Someone who asks for a flow before onboarding is finished is taken there right after it (like a deep link). A
   * danger sign is answered at once with "call 115", before the onboarding questions.
   */
  private rememberIntentForAfterOnboarding(turn: Turn, text: string): void {
    const match = this.options.intents?.match(text);
    if (match?.kind === 'emergency') this.say(turn, 'engine.emergency');
    if ((match?.kind === 'sure' || match?.kind === 'emergency') && this.resolveDeepLink(match.target)) turn.s.pendingStart = match.target;
  }

  /**
   * Counts a message that was not understood; the third in a row also offers the commune's contact (the `communeContact`
   * text variable, from the locality file), when there is one.
   */
  private noteMiss(turn: Turn): void {
    const { s } = turn;
    turn.missed = true;
    s.misses = (s.misses ?? 0) + 1;
    if (s.misses < MISSES_BEFORE_CONTACT) return;
    s.misses = 0;
    const contact = this.vars(s).communeContact;
    if (typeof contact === 'string' && contact !== '') this.say(turn, 'engine.contactOffer');
  }

  private guessOptions(s: Session): ReplyOption[] {
    const options: ReplyOption[] = (s.guesses ?? []).map((target, i) => ({
      id: `${ENGINE_BUTTON}:go:${target}`,
      label: this.flowLabel(s, this.resolveDeepLink(target)?.flow ?? target),
      number: i + 1,
    }));
    if (s.flow !== this.options.menuFlow) options.push({ id: `${ENGINE_BUTTON}:stay`, label: this.text(s, 'engine.guessStay'), number: options.length + 1 });
    return options;
  }

  private offerGuesses(turn: Turn): void {
    this.push(turn, { kind: 'choices', text: this.text(turn.s, 'engine.guessQuestion'), options: this.guessOptions(turn.s) });
  }

  /** The answer to "did you mean ...?": a guess, "go on", or anything else, which is then taken as a normal answer. */
  private async answerGuess(turn: Turn): Promise<void> {
    const { event } = turn;
    if (await this.takeEnginePick(turn, this.guessOptions(turn.s), true)) return;
    if (event.kind === 'choice' && event.optionId.startsWith(`${ENGINE_BUTTON}:`)) {
      this.say(turn, 'engine.staleButton');
      this.askCurrent(turn);
      return;
    }
    await this.answerStep(turn);
  }

  /**
   * After a flow ended: "1. Về menu" and the one or two next steps its end offers, not the whole menu again. The person
   * is at the menu (a typed request or a menu number still works); after onboarding, the whole menu is shown.
   */
  private async offerNext(turn: Turn, offer: string[] | undefined, wholeMenu: boolean): Promise<void> {
    await this.startHome(turn);
    const { s } = turn;
    if (wholeMenu || s.flow !== this.options.menuFlow) return;
    // startHome asked the menu question; the compact offer replaces it.
    turn.replies.pop();
    s.sub = 'after';
    s.guesses = (offer ?? []).filter((t) => this.resolveDeepLink(t) !== null);
    this.askCurrent(turn);
  }

  private afterOptions(s: Session): ReplyOption[] {
    return [
      { id: `${ENGINE_BUTTON}:menu`, label: this.text(s, 'engine.backToMenu'), number: 1 },
      ...(s.guesses ?? []).map((target, i) => ({ id: `${ENGINE_BUTTON}:go:${target}`, label: this.targetLabel(s, target), number: i + 2 })),
    ];
  }

  /** The answer to the offer after a flow: the menu, a next step, or anything else, which is then read at the menu. */
  private async answerAfter(turn: Turn): Promise<void> {
    if (await this.takeEnginePick(turn, this.afterOptions(turn.s), false)) return;
    await this.answerStep(turn);
  }

  /**
   * Ends a follow-up offered with the engine's own buttons (a guess, a next step) and acts on the pick: a `go:` button
   * asks the question it names (the message now is the pick, "1", not the request); any other pick asks the current
   * question. False when the reply picked nothing: the caller reads it otherwise.
   */
  private async takeEnginePick(turn: Turn, options: ReplyOption[], loose: boolean): Promise<boolean> {
    const picked = parseEnginePick(turn.event, options, this.options.words, loose);
    turn.s.sub = null;
    delete turn.s.guesses;
    if (!picked) return false;
    if (picked.id.startsWith(`${ENGINE_BUTTON}:go:`)) await this.startIntent(turn, picked.id.slice(`${ENGINE_BUTTON}:go:`.length), false);
    else this.askCurrent(turn);
    return true;
  }

  /** A next step as a person reads it: the menu's label of its flow, or the step's own question for a step. */
  private targetLabel(s: Session, target: string): string {
    const to = this.resolveDeepLink(target);
    if (!to) return target;
    const stepLabel = to.step ? this.stepOffer(s, to.flow, to.step) : null;
    return stepLabel ?? this.flowLabel(s, to.flow);
  }

  /** The label of the menu-like option that leads to a step (e.g. "Quy tắc 5K" in the epidemic flow), if any. */
  private stepOffer(s: Session, flowId: string, stepId: string): string | null {
    for (const step of Object.values(this.flow(flowId).steps)) {
      if (step.type !== 'choice' || !step.options) continue;
      const option = step.options.find((o) => o.next === stepId);
      if (option) return this.i18n.t(this.locale(s), option.label, this.vars(s));
    }
    return null;
  }

  /** How a flow is named to the user: its label in the main menu, else its title. */
  private flowLabel(s: Session, flowId: string): string {
    for (const step of Object.values(this.flow(this.options.menuFlow).steps)) {
      if (step.type !== 'choice' || !step.options) continue;
      const option = step.options.find((o) => o.flow === flowId);
      if (option) return this.i18n.t(this.locale(s), option.label, this.vars(s));
    }
    return this.text(s, this.flow(flowId).title);
  }

  // ---- moving through a flow ------------------------------------------------------------------------------

  /** After an accepted answer: remember where we were, then go on (back to the summary when editing). */
  private async moveOn(turn: Turn, next: string | undefined): Promise<void> {
    const { s } = turn;
    if (s.step) s.history.push(s.step);
    let target = next;
    if (s.returnTo) {
      target = s.returnTo;
      s.returnTo = null;
    }
    if (!target) throw new FlowRuntimeError(`Flow '${s.flow}', step '${s.step}': no next step after the answer`);
    await this.advance(turn, target);
  }

  private async startFlow(turn: Turn, flowId: string, stepId?: string): Promise<void> {
    const flow = this.enterFlow(turn.s, flowId);
    await this.advance(turn, stepId ?? flow.start);
  }

  /** Puts the session at the beginning of a flow, with no answers yet, before any step runs. */
  private enterFlow(s: Session, flowId: string): FlowDefinition {
    const flow = this.flow(flowId);
    this.resetPosition(s);
    s.flow = flow.id;
    s.flowVersion = flow.version;
    return flow;
  }

  /** Whoever speaks instead of typing is asked whether an officer may call back; the recording goes with it. */
  private async startVoiceCallback(turn: Turn, fileRef: string): Promise<void> {
    const flow = this.flows.byId.get(VOICE_FLOW);
    if (!flow) {
      turn.event = { ...turn.event, kind: 'text', text: '' } as InboundEvent;
      if (turn.s.flow) await this.answerStep(turn);
      else await this.startHome(turn);
      return;
    }
    this.enterFlow(turn.s, VOICE_FLOW);
    turn.s.answers.voice = fileRef;
    await this.advance(turn, flow.start);
  }

  /** Onboarding for someone who has not finished it, otherwise the menu. */
  private async startHome(turn: Turn): Promise<void> {
    if (!this.isOnboarded(turn.s)) await this.startFlow(turn, this.options.onboardingFlow);
    else await this.startFlow(turn, this.options.menuFlow);
  }

  /** Runs automatic steps from `stepId` until a question is asked or the flow ends. */
  private async advance(turn: Turn, stepId: string): Promise<void> {
    const { s } = turn;
    let id: string = stepId;
    for (let i = 0; i < MAX_AUTOMATIC_STEPS; i++) {
      const flow = this.flow(s.flow!);
      const step = flow.steps[id];
      if (!step) throw new FlowRuntimeError(`Flow '${flow.id}': step '${id}' does not exist`);
      switch (step.type) {
        case 'message':
          this.showPictures(turn, step);
          this.say(turn, step.text);
          id = step.next;
          continue;
        case 'branch':
          id = step.cases.find((c) => this.holds(s, c.when))?.next ?? step.otherwise;
          continue;
        case 'action': {
          const action = this.registry.actions[step.action];
          if (!action) throw new FlowRuntimeError(`Flow '${flow.id}', step '${id}': unknown action '${step.action}'`);
          const result = await action({
            channel: turn.event.channel,
            userId: turn.event.userId,
            eventId: turn.event.eventId,
            locale: this.locale(s),
            profile: s.profile,
            answers: s.answers,
            now: turn.now,
            display: (stepId, locale) => this.displayAnswer({ ...s, profile: { ...s.profile, locale } }, flow, stepId),
          });
          if (result.ok) {
            Object.assign(s.answers, result.output ?? {});
            for (const reply of result.replies ?? []) this.push(turn, reply);
            id = step.next;
            continue;
          }
          this.say(turn, result.message, result.vars);
          if (step.onError) {
            id = step.onError;
            continue;
          }
          this.resetPosition(s);
          await this.startHome(turn);
          return;
        }
        case 'goto':
          await this.startFlow(turn, step.flow, step.step);
          return;
        case 'end': {
          this.showPictures(turn, step);
          if (step.text) this.say(turn, step.text);
          const wasOnboarding = flow.id === this.options.onboardingFlow;
          this.resetPosition(s);
          if (wasOnboarding && s.pendingStart) {
            const target = this.resolveDeepLink(s.pendingStart);
            s.pendingStart = null;
            if (target) {
              await this.openDeepLink(turn, target);
              return;
            }
          }
          if (step.menu !== false) await this.offerNext(turn, wasOnboarding ? [] : step.offer, wasOnboarding);
          return;
        }
        case 'choice':
        case 'multi':
        case 'input':
        case 'location':
        case 'photo':
        case 'summary':
          s.step = id;
          // On arriving only: a question asked again (a wrong answer, a reload) does not resend its pictures.
          this.showPictures(turn, step);
          this.askCurrent(turn);
          return;
        default: {
          const unreachable: never = step;
          throw new FlowRuntimeError(`Unknown step type in ${JSON.stringify(unreachable)}`);
        }
      }
    }
    throw new FlowRuntimeError(`Flow '${s.flow}': more than ${MAX_AUTOMATIC_STEPS} steps without a question from step '${stepId}' (a loop?)`);
  }

  private holds(s: Session, c: Condition): boolean {
    const value = this.answer(s, c.answer);
    if (c.isSet !== undefined) return (value !== undefined && value !== null) === c.isSet;
    if (c.equals !== undefined) return value === c.equals;
    if (c.in !== undefined) return c.in.some((x) => x === value);
    if (c.includes !== undefined) return Array.isArray(value) && value.includes(c.includes);
    if (c.includesAny !== undefined) return Array.isArray(value) && c.includesAny.some((x) => value.includes(x));
    return false;
  }

  // ---- asking ---------------------------------------------------------------------------------------------

  private askCurrent(turn: Turn): void {
    if (turn.s.sub) this.followUps[turn.s.sub].ask(turn);
    else this.askStep(turn);
  }

  /** Asks the current step's own question (none for a step that asks nothing). */
  private askStep(turn: Turn): void {
    const { s } = turn;
    const step = this.currentStep(s);
    if (!step) return;
    const flow = this.flow(s.flow!);
    const prefix = this.progressPrefix(s, flow);
    const q = (key: string) => prefix + this.text(s, key);
    switch (step.type) {
      case 'choice': {
        const options = this.choiceOptions(s, step);
        this.push(turn, { kind: 'choices', text: q(step.text), options: options.map((o, i) => ({ id: `${s.step}:${o.id}`, label: o.label, number: i + 1 })) });
        return;
      }
      case 'multi': {
        const options = this.staticOptions(s, step.options);
        const selected = s.multiDraft ?? [];
        const reply: Reply = {
          kind: 'choices',
          multi: true,
          text: `${q(step.text)}\n${this.text(s, 'engine.multiHow')}`,
          options: [
            ...options.map((o, i) => ({ id: `${s.step}:${o.id}`, label: o.label, number: i + 1 })),
            { id: `${s.step}:done`, label: this.text(s, 'engine.multiDone') },
          ],
          selected: selected.map((id) => `${s.step}:${id}`),
        };
        this.push(turn, reply);
        return;
      }
      case 'input':
        if (step.requestPhone) this.push(turn, { kind: 'request-phone', text: q(step.text), buttonLabel: this.text(s, 'engine.sharePhone') });
        else this.push(turn, { kind: 'text', text: q(step.text) });
        return;
      case 'location':
        this.push(turn, {
          kind: 'request-location',
          text: q(step.text),
          buttonLabel: this.text(s, 'engine.shareLocation'),
          ...(step.optional ? { skipOption: { id: `${s.step}:skip`, label: this.text(s, 'engine.skip'), number: 1 } } : {}),
        });
        return;
      case 'photo':
        if (step.optional) {
          this.push(turn, { kind: 'choices', text: `${q(step.text)}`, options: [{ id: `${s.step}:skip`, label: this.text(s, 'engine.skip'), number: 1 }] });
        } else this.push(turn, { kind: 'text', text: q(step.text) });
        return;
      case 'summary': {
        const lines = step.fields.map((f) => `• ${this.text(s, f.label)}: ${this.displayAnswer(s, flow, f.step)}`);
        this.push(turn, {
          kind: 'choices',
          text: `${this.text(s, step.text)}\n\n${lines.join('\n')}`,
          options: [
            { id: `${s.step}:confirm`, label: this.text(s, 'engine.confirm'), number: 1 },
            { id: `${s.step}:edit`, label: this.text(s, 'engine.edit'), number: 2 },
          ],
        });
        return;
      }
      default:
        return;
    }
  }

  private reask(turn: Turn, hintKey: string, vars?: Record<string, unknown>): void {
    this.say(turn, hintKey, vars);
    this.askCurrent(turn);
  }

  private progressPrefix(s: Session, flow: FlowDefinition): string {
    if (!flow.progress || !s.step) return '';
    const order = this.flows.questionOrder.get(flow.id) ?? [];
    if (!order.includes(s.step)) return '';
    // The questions actually answered so far, not the step's place in the file: a branch that skips a question
    // ("Câu 6" then "Câu 7", never "Câu 8").
    const asked = new Set(s.history.filter((id) => id !== s.step && order.includes(id))).size;
    return `${this.text(s, 'engine.progress', { current: asked + 1, total: order.length })}\n`;
  }

  /** The answer of a step as a person reads it: option labels, not ids. */
  private displayAnswer(s: Session, flow: FlowDefinition, stepId: string): string {
    const step = flow.steps[stepId];
    if (!step || !('save' in step) || !step.save) return '—';
    const value = this.answer(s, step.save);
    if (value === undefined || value === null) return this.text(s, 'engine.notGiven');
    if (step.type === 'choice') {
      const option = this.choiceOptions(s, step).find((o) => (o.value ?? o.id) === value);
      return option?.label ?? String(value);
    }
    if (step.type === 'multi' && Array.isArray(value)) {
      const options = this.staticOptions(s, step.options);
      return value.map((id) => options.find((o) => o.id === id)?.label ?? String(id)).join(', ');
    }
    if (step.type === 'location') return this.text(s, 'engine.locationGiven');
    if (step.type === 'photo') return this.text(s, 'engine.photoGiven');
    if (typeof value === 'string') return formatPhoneVN(value);
    return typeof value === 'object' ? JSON.stringify(value) : String(value);
  }

  // ---- options --------------------------------------------------------------------------------------------

  private choiceOptions(s: Session, step: Extract<StepDefinition, { type: 'choice' }>): ResolvedOption[] {
    if (step.options) return this.staticOptions(s, step.options);
    const source = this.registry.optionSources[step.optionsFrom!];
    if (!source) throw new FlowRuntimeError(`Flow '${s.flow}', step '${s.step}': unknown option list '${step.optionsFrom}'`);
    return source({ locale: this.locale(s), profile: s.profile, answers: s.answers }).map((o) => ({ ...o, allLabels: [o.label] }));
  }

  private staticOptions(s: Session, options: OptionDefinition[]): ResolvedOption[] {
    const locale = this.locale(s);
    let vars: Record<string, unknown> | undefined;
    const label = (l: Locale, key: string) => this.i18n.plain?.(l, key) ?? this.i18n.t(l, key, (vars ??= this.vars(s)));
    const shown = options.some((o) => o.requires) ? options.filter((o) => !o.requires || Boolean((vars ??= this.vars(s))[o.requires])) : options;
    return shown.map((o) => ({
      id: o.id,
      label: label(locale, o.label),
      allLabels: this.i18n.locales.map((l) => label(l, o.label)),
      synonyms: o.synonyms,
      means: o.means,
      value: o.value,
      next: o.next,
      flow: o.flow,
    }));
  }

  /** A typed answer to a list: its number, its label in any locale, a synonym, or an unambiguous start of a label. */
  private matchOption<T extends { id: string; label: string; allLabels?: string[]; synonyms?: string[] }>(options: T[], typed: string, loose = true): T | undefined {
    return matchTypedOption(options, typed, this.options.words, loose);
  }

  /** True when a typed message answers the current question with one of its options. */
  private answersCurrentQuestion(s: Session, typed: string): boolean {
    const step = this.currentStep(s);
    if (step?.type === 'choice') return answersOptions(this.choiceOptions(s, step), typed, this.options.words, false, s.flow !== this.options.menuFlow);
    if (step?.type === 'multi') return answersOptions(this.staticOptions(s, step.options), typed, this.options.words, true);
    return false;
  }

  // ---- small helpers --------------------------------------------------------------------------------------

  private save(s: Session, target: string | undefined, value: JsonValue): void {
    if (!target) return;
    if (target === 'profile.locale') {
      if (typeof value === 'string' && this.i18n.locales.includes(value)) s.profile.locale = value;
      return;
    }
    if (target === 'profile.commune') {
      s.profile.commune = typeof value === 'string' ? value : null;
      return;
    }
    s.answers[target] = value;
  }

  private answer(s: Session, name: string): JsonValue | undefined {
    if (name === 'profile.locale') return s.profile.locale;
    if (name === 'profile.commune') return s.profile.commune;
    return s.answers[name];
  }

  private isOnboarded(s: Session): boolean {
    return s.profile.locale !== null && s.profile.commune !== null;
  }

  private positionIsValid(s: Session): boolean {
    if (!s.flow) return true;
    const flow = this.flows.byId.get(s.flow);
    if (!flow || flow.version !== s.flowVersion) return false;
    return s.step === null || flow.steps[s.step] !== undefined;
  }

  /** Forgets where the person is and what they answered in it (their profile stays): the one place a position is reset. */
  private resetPosition(s: Session): void {
    s.flow = null;
    s.flowVersion = null;
    s.step = null;
    s.answers = {};
    s.history = [];
    s.sub = null;
    delete s.guesses;
    s.multiDraft = null;
    s.returnTo = null;
  }

  private currentStep(s: Session): StepDefinition | undefined {
    if (!s.flow || !s.step) return undefined;
    return this.flows.byId.get(s.flow)?.steps[s.step];
  }

  private flow(id: string): FlowDefinition {
    const flow = this.flows.byId.get(id);
    if (!flow) throw new FlowRuntimeError(`Flow '${id}' does not exist (flows/${id}.json)`);
    return flow;
  }

  private locale(s: Session): Locale {
    // A language whose folder was removed since is treated as unset.
    const l = s.profile.locale;
    return l && this.i18n.locales.includes(l) ? l : this.options.defaultLocale;
  }

  private vars(s: Session): Record<string, unknown> {
    const vars: Record<string, unknown> = { ...this.registry.textVars(s.profile, this.locale(s)) };
    for (const [k, v] of Object.entries(s.answers)) {
      if (typeof v === 'string' || typeof v === 'number') vars[k] = v;
    }
    return vars;
  }

  private text(s: Session, key: string, vars?: Record<string, unknown>): string {
    const locale = this.locale(s);
    if (!vars) {
      const plain = this.i18n.plain?.(locale, key);
      if (plain) return plain;
    }
    return this.i18n.t(locale, key, { ...this.vars(s), ...vars });
  }

  /** The step's guidance pictures, before its text; those with nothing to show are left out. */
  private showPictures(turn: Turn, step: StepDefinition): void {
    if (!this.registry.picture) return;
    for (const id of stepPictures(step)) {
      const picture = this.registry.picture(id, turn.s.profile, this.locale(turn.s));
      if (picture) this.push(turn, picture);
    }
  }

  private say(turn: Turn, key: string, vars?: Record<string, unknown>): void {
    this.push(turn, { kind: 'text', text: this.text(turn.s, key, vars) });
  }

  private push(turn: Turn, reply: Reply): void {
    turn.replies.push(reply);
  }
}

interface ResolvedOption {
  id: string;
  label: string;
  allLabels?: string[];
  synonyms?: string[];
  means?: 'yes' | 'no';
  value?: string | number | boolean | null;
  next?: string;
  flow?: string;
}

/** Text keys the engine uses itself; start-up checks that each exists in every locale. */
export const ENGINE_TEXT_KEYS = [
  'engine.flowChanged',
  'engine.cancelled',
  'engine.backNone',
  'engine.help',
  'engine.languageChanged',
  'engine.resumeQuestion',
  'engine.resumeContinue',
  'engine.resumeRestart',
  'engine.hintChoice',
  'engine.staleButton',
  'engine.hintMulti',
  'engine.hintMultiEmpty',
  'engine.hintMultiExclusive',
  'engine.hintPhone',
  'engine.hintText',
  'engine.hintLocation',
  'engine.hintLocationOptional',
  'engine.hintPhoto',
  'engine.hintPhotoOptional',
  'engine.pickField',
  'engine.multiHow',
  'engine.multiDone',
  'engine.sharePhone',
  'engine.shareLocation',
  'engine.skip',
  'engine.confirm',
  'engine.edit',
  'engine.progress',
  'engine.notGiven',
  'engine.locationGiven',
  'engine.photoGiven',
  'engine.guessQuestion',
  'engine.guessStay',
  'engine.outOfScope',
  'engine.thanks',
  'engine.emergency',
  'engine.contactOffer',
  'engine.afterQuestion',
  'engine.backToMenu',
] as const;
