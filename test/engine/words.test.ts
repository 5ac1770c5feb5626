import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/config';
import { buildEngineWords, loadEngineWords, WordsFileError } from '../../src/engine/words';
import { tempDir } from '../support/harness';

function localesWith(change: (vi: Record<string, string[]>) => void): string {
  const dir = tempDir('cgb-words-');
  for (const locale of ['vi', 'en']) {
    fs.mkdirSync(path.join(dir, locale));
    const words = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'locales', locale, 'words.json'), 'utf8')) as Record<string, string[]>;
    if (locale === 'vi') change(words);
    fs.writeFileSync(path.join(dir, locale, 'words.json'), JSON.stringify(words));
  }
  return dir;
}

describe('the engine\'s words (locales/<lang>/words.json)', () => {
  it('are understood in every language at once, without diacritics', () => {
    const words = loadEngineWords(path.join(PROJECT_ROOT, 'locales'));
    expect(words.skip.has('bo qua')).toBe(true);
    expect(words.skip.has('skip')).toBe(true);
    expect(words.cancel.has('huy')).toBe(true);
    expect(words.greeting.has('xin chao')).toBe(true);
  });

  it('come from the files: a word added to a list is understood', () => {
    const words = loadEngineWords(localesWith((vi) => vi.skip!.push('thôi khỏi')));
    expect(words.skip.has('thoi khoi')).toBe(true);
    expect(buildEngineWords([{ ...Object.fromEntries(Object.keys(words).map((k) => [k, []])), done: ['Xong rồi'] } as never]).done).toEqual(new Set(['xong roi']));
  });

  it('stop start-up naming the file and the list when one is missing', () => {
    const dir = localesWith((vi) => delete vi.skip);
    expect(() => loadEngineWords(dir, dir)).toThrow(WordsFileError);
    expect(() => loadEngineWords(dir, dir)).toThrow(/vi\/words\.json: skip:/);
  });
});
