/**
 * A small text classifier of our own for what citizens type: multinomial logistic regression over hashed word
 * unigrams, word bigrams and character 3- and 4-grams of the normalised message (no diacritics, teencode expanded by
 * the caller). Character n-grams carry typos, words run together ("caidat") and missing diacritics; word n-grams carry
 * the meaning. Trained at start-up from the labelled examples shipped in `locales/<lang>/intent-examples.json`.
 *
 * Features are 32-bit FNV-1a hashes computed from character codes (no substring is allocated per n-gram); a hash seen
 * in training gets a column, unseen hashes are ignored. Each message's feature vector is L2-normalised.
 */

export interface LabelledText {
  /** Normalised words (see `intentWords`). */
  words: readonly string[];
  label: string;
}

export interface ClassifierOptions {
  /** Passes over the examples. */
  epochs?: number;
  /** Adagrad step size. */
  learningRate?: number;
  /** L2 penalty per step (weight decay). */
  l2?: number;
  /** Deterministic shuffling between epochs. */
  seed?: number;
}

/** A probability for each label, in `labels` order. */
export interface ClassifierScores {
  labels: readonly string[];
  probabilities: Float64Array;
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const MIN_CHAR_GRAM = 3;
/** Rare labels weigh (total / (labels × count))^power per example. */
const CLASS_WEIGHT_POWER = 0.5;
/** Gradients smaller than this are not applied (a class already ruled out for this example). */
const SKIP_GRADIENT = 1e-2;
const MAX_CHAR_GRAM = 4;

/** Calls `emit` with the hash of every feature of a message (a feature may be emitted more than once). */
function forEachFeature(words: readonly string[], emit: (hash: number) => void): void {
  // Word unigrams and bigrams (kind byte 1 and 2, so that "ho" the word and "ho" the 2-gram differ).
  let previous = 0;
  for (let w = 0; w < words.length; w++) {
    let h = (FNV_OFFSET ^ 1) >>> 0;
    const word = words[w]!;
    for (let i = 0; i < word.length; i++) h = Math.imul(h ^ word.charCodeAt(i), FNV_PRIME) >>> 0;
    emit(h);
    if (w > 0) emit(Math.imul((previous ^ 2) >>> 0, FNV_PRIME) ^ h);
    previous = h;
  }
  // Character n-grams over " w1 w2 ... " (spaces included: word starts and ends, words run together).
  const text = ` ${words.join(' ')} `;
  for (let start = 0; start < text.length; start++) {
    let h = (FNV_OFFSET ^ 3) >>> 0;
    for (let n = 1; n <= MAX_CHAR_GRAM && start + n <= text.length; n++) {
      h = Math.imul(h ^ text.charCodeAt(start + n - 1), FNV_PRIME) >>> 0;
      if (n >= MIN_CHAR_GRAM) emit((h ^ n) >>> 0);
    }
  }
}

/**
 * Feature hash → column, as an open-addressing table in two typed arrays: a lookup per feature of every message is the
 * classifier's hottest path, and this is several times faster than a Map.
 */
class ColumnTable {
  private readonly keys: Int32Array;
  /** Column + 1; 0 marks an empty slot. */
  private readonly values: Int32Array;
  private readonly mask: number;

  constructor(columns: ReadonlyMap<number, number>) {
    let capacity = 16;
    while (capacity < columns.size * 2) capacity *= 2;
    this.keys = new Int32Array(capacity);
    this.values = new Int32Array(capacity);
    this.mask = capacity - 1;
    for (const [hash, column] of columns) {
      let slot = this.slotOf(hash);
      while (this.values[slot] !== 0) slot = (slot + 1) & this.mask;
      this.keys[slot] = hash | 0;
      this.values[slot] = column + 1;
    }
  }

  /** The column of a feature hash, or -1 when training never saw it. */
  get(hash: number): number {
    const key = hash | 0;
    let slot = this.slotOf(hash);
    for (;;) {
      const value = this.values[slot]!;
      if (value === 0) return -1;
      if (this.keys[slot] === key) return value - 1;
      slot = (slot + 1) & this.mask;
    }
  }

  private slotOf(hash: number): number {
    return (Math.imul(hash | 0, 0x9e3779b1) >>> 16) & this.mask;
  }
}

/** Column indexes of a message's known features and their (L2-normalised) values. */
interface SparseVector {
  index: Int32Array;
  value: Float32Array;
}

export class IntentClassifier {
  /** Per column, the call (`stampId`) that last saw it and where its count is: see `vectorize`. */
  private readonly stamps: Int32Array;
  private readonly slots: Int32Array;
  private stampId = 0;
  private readonly table: ColumnTable;

  private constructor(
    readonly labels: readonly string[],
    private readonly columns: Map<number, number>,
    /** Row-major: weights[column * labels.length + label]. */
    private readonly weights: Float32Array,
    private readonly bias: Float32Array,
  ) {
    this.stamps = new Int32Array(columns.size);
    this.slots = new Int32Array(columns.size);
    this.table = new ColumnTable(columns);
  }

  /** Trains on labelled messages. Deterministic for the same examples and options. */
  static train(examples: readonly LabelledText[], options: ClassifierOptions = {}): IntentClassifier {
    const epochs = options.epochs ?? 8;
    const rate = options.learningRate ?? 0.25;
    const l2 = options.l2 ?? 1e-5;
    const labels = [...new Set(examples.map((e) => e.label))].sort();
    const labelIndex = new Map(labels.map((l, i) => [l, i]));
    const columns = new Map<number, number>();
    for (const e of examples) forEachFeature(e.words, (h) => void (columns.has(h) || columns.set(h, columns.size)));
    const k = labels.length;
    const weights = new Float32Array(columns.size * k);
    const squares = new Float32Array(columns.size * k);
    const bias = new Float32Array(k);
    const biasSquares = new Float32Array(k);
    const model = new IntentClassifier(labels, columns, weights, bias);
    const vectors = examples.map((e) => model.vectorize(e.words));
    const targets = examples.map((e) => labelIndex.get(e.label)!);
    // Rare labels (thanks, menu) weigh more per example, so that the many examples of big flows do not drown them.
    const counts = new Float64Array(k);
    for (const t of targets) counts[t] = counts[t]! + 1;
    const weightOf = Array.from(counts, (n) => Math.pow(examples.length / (k * n), CLASS_WEIGHT_POWER));
    const order = examples.map((_, i) => i);
    let seed = options.seed ?? 13;
    const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 0x1_0000_0000);
    const probabilities = new Float64Array(k);
    for (let epoch = 0; epoch < epochs; epoch++) {
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      for (const i of order) {
        const x = vectors[i]!;
        model.predictInto(x, probabilities);
        const y = targets[i]!;
        const w = weightOf[y]!;
        for (let c = 0; c < k; c++) {
          const g = w * (probabilities[c]! - (c === y ? 1 : 0));
          // A class the model already rules out has nothing to learn here; skipping it makes training several times faster.
          if (g > -SKIP_GRADIENT && g < SKIP_GRADIENT) continue;
          biasSquares[c] = biasSquares[c]! + g * g;
          bias[c] = bias[c]! - (rate * g) / Math.sqrt(biasSquares[c]! + 1e-8);
          for (let f = 0; f < x.index.length; f++) {
            const at = x.index[f]! * k + c;
            const grad = g * x.value[f]! + l2 * weights[at]!;
            squares[at] = squares[at]! + grad * grad;
            weights[at] = weights[at]! - (rate * grad) / Math.sqrt(squares[at]! + 1e-8);
          }
        }
      }
    }
    return model;
  }

  /** The probability of each label for a message's words. */
  classify(words: readonly string[]): ClassifierScores {
    const probabilities = new Float64Array(this.labels.length);
    this.predictInto(this.vectorize(words), probabilities);
    return { labels: this.labels, probabilities };
  }

  /** How many distinct features the model knows (for the start-up log). */
  get featureCount(): number {
    return this.columns.size;
  }

  private vectorize(words: readonly string[]): SparseVector {
    // Counting with a stamp per column instead of a Map: no allocation per feature (this runs for every message).
    const stampId = ++this.stampId;
    let capacity = 2 * words.length + (MAX_CHAR_GRAM - MIN_CHAR_GRAM + 1) * (words.join(' ').length + 2);
    const index = new Int32Array(capacity);
    const value = new Float32Array(capacity);
    let n = 0;
    forEachFeature(words, (h) => {
      const column = this.table.get(h);
      if (column < 0) return;
      if (this.stamps[column] === stampId) {
        const at = this.slots[column]!;
        value[at] = value[at]! + 1;
        return;
      }
      this.stamps[column] = stampId;
      this.slots[column] = n;
      index[n] = column;
      value[n] = 1;
      n++;
    });
    capacity = n;
    let norm = 0;
    for (let j = 0; j < n; j++) norm += value[j]! * value[j]!;
    const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let j = 0; j < n; j++) value[j] = value[j]! * scale;
    return { index: index.subarray(0, capacity), value: value.subarray(0, capacity) };
  }

  private predictInto(x: SparseVector, out: Float64Array): void {
    const k = this.labels.length;
    for (let c = 0; c < k; c++) out[c] = this.bias[c]!;
    for (let f = 0; f < x.index.length; f++) {
      const base = x.index[f]! * k;
      const v = x.value[f]!;
      for (let c = 0; c < k; c++) out[c] = out[c]! + this.weights[base + c]! * v;
    }
    let max = -Infinity;
    for (let c = 0; c < k; c++) if (out[c]! > max) max = out[c]!;
    let sum = 0;
    for (let c = 0; c < k; c++) {
      out[c] = Math.exp(out[c]! - max);
      sum += out[c]!;
    }
    for (let c = 0; c < k; c++) out[c] = out[c]! / sum;
  }
}
