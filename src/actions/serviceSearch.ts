import { wordSimilarity } from '../engine/fuzzy';
import { normalizeText } from '../engine/normalize';
import type { PublicServices, Procedure } from '../locality/guidanceSchema';

/**
 * Word search over the public-service catalogue: ignores case and diacritics, tolerates one typo in longer words
 * and words run together ("khaisinh"), and ranks by how rare and how prominent the matched words are (a word in
 * the name or the keywords counts more than one in the description; a word in every procedure counts little).
 */

/** Words that say nothing about which procedure is meant. */
const FILLER = new Set(
  'toi minh em anh chi ban muon can lam the nao o dau cho hoi la gi cach thu tuc xin cua va voi de co khong duoc nhu sao nop online truc tuyen giup ve viec ai ho tro how to i a an the my me for get want need of apply online what where can is in on please'.split(' '),
);
const MAX_RESULTS = 8;

interface Field {
  weight: number;
  /** The field's words, then neighbouring words run together. */
  words: string[];
  /** The field's words only, in order. */
  plain: string[];
}

interface IndexedProcedure {
  procedure: Procedure;
  fields: Field[];
}

export interface SearchHit {
  procedure: Procedure;
  score: number;
}

function field(weight: number, raw: string): Field {
  const text = normalizeText(raw);
  const words = text === '' ? [] : text.split(' ');
  // Neighbouring words run together, for people who type without spaces.
  const joined = words.slice(1).map((w, i) => words[i] + w);
  return { weight, words: [...words, ...joined], plain: words };
}

export class ServiceSearch {
  private readonly index: IndexedProcedure[];

  constructor(catalogue: PublicServices) {
    const categories = new Map(catalogue.categories.map((c) => [c.id, c]));
    this.index = catalogue.procedures.map((p) => {
      const category = categories.get(p.category);
      return {
        procedure: p,
        fields: [
          field(3, p.name.vi),
          field(3, p.name.en),
          ...p.keywords.map((k) => field(3, k)),
          field(1, `${category?.name.vi ?? ''} ${category?.name.en ?? ''} ${(category?.keywords ?? []).join(' ')}`),
          field(1, p.description.vi),
          field(1, p.description.en),
          field(0.5, [...p.documents.vi, ...p.documents.en].join(' ')),
        ],
      };
    });
  }

  /** The procedures that match `query`, best first (at most 8); empty when nothing matches. */
  search(query: string): SearchHit[] {
    const words = normalizeText(query)
      .split(' ')
      .filter((w) => w !== '' && !FILLER.has(w));
    if (words.length === 0 || words.length > 30) return [];
    const n = this.index.length;

    // How well each query word matches each procedure, then how rare the word is across the catalogue.
    const perWord = words.map((w) => this.index.map((p) => Math.max(0, ...p.fields.map((f) => f.weight * Math.max(0, ...f.words.map((t) => wordSimilarity(w, t)))))));
    // Minimum relevance: most of what was asked must be about this procedure (its name, keywords, group or
    // description; the list of documents does not count), so "giấy phép lái xe" finds nothing rather than the liquor
    // licence that shares "giấy phép".
    const needed = words.length <= 2 ? words.length : Math.ceil((words.length * 2) / 3);
    // A word in the name or the keywords covers fully; one only in the group or the description, half.
    const covered = this.index.map((p) =>
      words.reduce((sum, w) => {
        const weight = Math.max(0, ...p.fields.filter((f) => f.weight >= 1 && f.words.some((t) => wordSimilarity(w, t) > 0)).map((f) => f.weight));
        return sum + (weight >= 3 ? 1 : weight >= 1 ? 0.5 : 0);
      }, 0),
    );
    const idf = perWord.map((scores) => Math.log(1 + n / (1 + scores.filter((x) => x > 0).length)));

    const hits: SearchHit[] = this.index.map((p, i) => {
      let score = perWord.reduce((sum, scores, k) => sum + scores[i]! * idf[k]!, 0);
      // The words in this order in a name or keyword; more when they are the whole keyword (the most specific).
      const prominent = p.fields.filter((f) => f.weight >= 3);
      if (words.length > 1 && prominent.some((f) => containsSequence(f.plain, words))) score += 3;
      if (prominent.some((f) => (f.plain.length === words.length && containsSequence(f.plain, words)) || f.plain.join('') === words.join(''))) score += 2;
      const strong = perWord.some((scores) => scores[i]! >= 3 * 0.7);
      return { procedure: p.procedure, score: strong ? score : score / 3 };
    });
    const ranked = hits.filter((h, i) => h.score > 0 && covered[i]! >= needed).sort((a, b) => b.score - a.score);
    const top = ranked[0]?.score ?? 0;
    return ranked.filter((h) => h.score >= Math.max(1, top * 0.5)).slice(0, MAX_RESULTS);
  }
}

/** True when `needle` occurs in `haystack` as consecutive words, each equal or within one typo. */
function containsSequence(haystack: string[], needle: string[]): boolean {
  for (let i = 0; i + needle.length <= haystack.length; i++) {
    if (needle.every((w, j) => wordSimilarity(w, haystack[i + j]!) > 0)) return true;
  }
  return false;
}
