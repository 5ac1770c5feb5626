import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Translator } from '../engine/contracts';
import type { Locale, Reply } from '../engine/types';
import { OperatorError } from '../errors';
import { GUIDANCE_CARDS, type GuidanceCard } from './guidanceCards';
import type { CardContent } from './renderGuidanceCard';
import type * as CardRenderer from './renderGuidanceCard';

let cardRenderer: typeof CardRenderer | undefined;
/** The card renderer, loaded on the first card to draw: @napi-rs/canvas adds ~16 MB resident to a server that may never draw one. */
function renderGuidanceCard(content: CardContent): Buffer {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use, see above
  return (cardRenderer ??= require('./renderGuidanceCard') as typeof CardRenderer).renderGuidanceCard(content);
}

export type PictureReply = Extract<Reply, { kind: 'picture' }>;

/** What channels need of the pictures: the bytes of one, by the name in a `picture` reply. */
export interface PictureFiles {
  file(ref: string): { bytes: Buffer; contentType: 'image/png' | 'image/jpeg' } | null;
}

/** Bump when the drawing changes, so that every picture gets a new address (browsers and chats cache them). */
const DRAWING_VERSION = 1;
/** Zalo takes uploads of at most 1 MB (`/v2.0/oa/upload/image`); Telegram photos may be larger. */
export const MAX_PICTURE_BYTES = 1024 * 1024;
/** A picture's name in addresses: `<card>-<locale>-<hash>.<png|jpg>`. */
export const PICTURE_REF = /^[A-Za-z0-9_-]{1,80}-[0-9a-f]{12}\.(?:png|jpg)$/;

/** A picture file in the district's folder that cannot be used. */
export class GuidancePictureFileError extends OperatorError {
  constructor(message: string) {
    super(message);
  }
}

interface Override {
  ref: string;
  bytes: Buffer;
  contentType: 'image/png' | 'image/jpeg';
  file: string;
}

function contentTypeOf(bytes: Buffer): 'image/png' | 'image/jpeg' | null {
  if (bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png';
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  return null;
}

const hash = (data: string | Buffer) => crypto.createHash('sha256').update(data).digest('hex').slice(0, 12);

export interface GuidancePicturesOptions {
  /** The district's folder: `<dir>/<lang>/<card>.png` (or .jpg) for one language, `<dir>/<card>.png` for all. */
  dir: string;
  i18n: Translator;
  /** The small print at the bottom of drawn cards (who issued them), per language. */
  footer: (locale: Locale) => string;
  /** How the folder is named in messages (relative to the project). */
  displayRoot: string;
}

/**
 * The guidance pictures: each card drawn from its texts and the locality's numbers, or the district's own file
 * when the folder holds one (used as it is). Pictures are addressed by a name that changes with their content,
 * so that caches (browsers, Telegram file ids, Zalo attachment ids) never show an old picture. Drawn on first use
 * (or by `drawAll` after start-up) and kept in memory: a card is a few tens of KB and there are a few dozen at most
 * (cards × languages × the numbers that differ between communes).
 */
export class GuidancePictures implements PictureFiles {
  private readonly overrides = new Map<string, Override>();
  private readonly byRef = new Map<string, Override | CardContent>();
  private readonly drawn = new Map<string, Buffer>();
  /** Files in the folder that name no card or language (a typo the district's IT officer should see). */
  readonly unusedFiles: string[] = [];

  constructor(private readonly options: GuidancePicturesOptions) {
    this.loadOverrides();
  }

  /** The ids of the cards a flow may name. */
  static readonly ids = GUIDANCE_CARDS.map((c) => c.id);

  /** The district's file for a card, if any (for tests and the README's check). */
  overrideFile(id: string, locale: Locale): string | null {
    return this.overrides.get(`${locale}\u0000${id}`)?.file ?? null;
  }

  /**
   * The picture of card `id` in `locale` with these text variables (the locality's numbers), or null when there is
   * nothing to show (a card drawn only from the district's file, and no file).
   */
  resolve(id: string, locale: Locale, vars: Record<string, string>): PictureReply | null {
    const card = GUIDANCE_CARDS.find((c) => c.id === id);
    if (!card) throw new Error(`Unknown guidance picture '${id}' (known: ${GuidancePictures.ids.join(', ')})`);
    const t = (key: string) => this.options.i18n.t(locale, key, vars);
    const content = this.content(card, locale, vars);
    const caption = t(card.title);
    const alt = [caption, ...content.steps.map((s) => `${s.number}. ${s.text}`)].join('\n');
    const override = this.overrides.get(`${locale}\u0000${id}`);
    if (override) return { kind: 'picture', id, ref: override.ref, alt, caption };
    if (card.fileOnly) return null;
    const ref = `${id}-${locale}-${hash(JSON.stringify([DRAWING_VERSION, content]))}.png`;
    if (!this.byRef.has(ref)) this.byRef.set(ref, content);
    return { kind: 'picture', id, ref, alt, caption };
  }

  /** The bytes of a picture by its name, drawing it on first use; null for a name this server does not know. */
  file(ref: string): { bytes: Buffer; contentType: 'image/png' | 'image/jpeg' } | null {
    const entry = this.byRef.get(ref);
    if (!entry) return null;
    if ('bytes' in entry) return { bytes: entry.bytes, contentType: entry.contentType };
    let bytes = this.drawn.get(ref);
    if (!bytes) {
      bytes = renderGuidanceCard(entry);
      this.drawn.set(ref, bytes);
    }
    return { bytes, contentType: 'image/png' };
  }

  /**
   * Draws every picture known so far that is not drawn yet, one per turn of the event loop (a card takes tens of
   * milliseconds of CPU), so that the first person to ask does not wait. Stops when `signal` aborts.
   */
  async drawAll(signal?: AbortSignal): Promise<number> {
    let drawn = 0;
    for (const ref of [...this.byRef.keys()]) {
      if (signal?.aborted) break;
      if (this.drawn.has(ref) || 'bytes' in this.byRef.get(ref)!) continue;
      await new Promise((resolve) => setImmediate(resolve));
      this.file(ref);
      drawn++;
    }
    return drawn;
  }

  private content(card: GuidanceCard, locale: Locale, vars: Record<string, string>): CardContent {
    const steps = card.steps.filter((s) => (s.needs ?? []).every((v) => (vars[v] ?? '').trim() !== ''));
    return {
      title: this.options.i18n.t(locale, card.title, vars),
      steps: steps.map((s, i) => ({ number: i + 1, text: this.options.i18n.t(locale, s.text, vars), pictogram: s.pictogram })),
      footer: this.options.footer(locale),
    };
  }

  private loadOverrides(): void {
    const { dir, i18n } = this.options;
    if (!fs.existsSync(dir)) return;
    const shown = (file: string) => path.relative(this.options.displayRoot, file) || file;
    const read = (file: string): Omit<Override, 'ref'> => {
      const bytes = fs.readFileSync(file);
      const contentType = contentTypeOf(bytes);
      if (!contentType) throw new GuidancePictureFileError(`${shown(file)}: not a PNG or JPEG picture. Save it as .png or .jpg, or remove it to use the drawn card.`);
      if (bytes.length > MAX_PICTURE_BYTES) {
        throw new GuidancePictureFileError(`${shown(file)}: ${Math.round(bytes.length / 1024)} KB; Zalo takes pictures of at most 1024 KB. Make it smaller (fewer pixels, or JPEG), or remove it to use the drawn card.`);
      }
      return { bytes, contentType, file };
    };
    const fileFor = (folder: string, id: string): string | null => {
      for (const ext of ['png', 'jpg', 'jpeg']) {
        const file = path.join(folder, `${id}.${ext}`);
        if (fs.existsSync(file)) return file;
      }
      return null;
    };
    const known = new Set<string>();
    for (const card of GUIDANCE_CARDS) {
      const common = fileFor(dir, card.id);
      const commonFile = common ? read(common) : null;
      if (common) known.add(common);
      for (const locale of i18n.locales) {
        const own = fileFor(path.join(dir, locale), card.id);
        if (own) known.add(own);
        const chosen = own ? read(own) : commonFile;
        if (!chosen) continue;
        const ext = chosen.contentType === 'image/png' ? 'png' : 'jpg';
        const override: Override = { ...chosen, ref: `${card.id}-${locale}-${hash(chosen.bytes)}.${ext}` };
        this.overrides.set(`${locale}\u0000${card.id}`, override);
        this.byRef.set(override.ref, override);
      }
    }
    const walk = (folder: string, depth: number): string[] =>
      fs.readdirSync(folder, { withFileTypes: true }).flatMap((e) => {
        const full = path.join(folder, e.name);
        if (e.isDirectory()) return depth === 0 ? walk(full, 1) : [full];
        return e.name.startsWith('.') || e.name.toLowerCase().endsWith('.md') ? [] : [full];
      });
    this.unusedFiles.push(...walk(dir, 0).filter((f) => !known.has(f)).map(shown));
  }
}
