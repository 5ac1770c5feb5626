import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/config';
import { buildWordLists, loadWordLists, type WordsFile } from '../../src/engine/words';
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

const none = (): WordsFile => ({
  navigation: { menu: [], back: [], cancel: [], help: [], start: [], language: [] },
  languageNames: [],
  unsubscribe: [],
  yes: [],
  no: [],
  fillers: [],
  skip: [],
  done: [],
  confirm: [],
  edit: [],
  continue: [],
  restart: [],
});

describe('the engine\'s words (locales/<lang>/words.json)', () => {
  it('are understood in every language at once, without diacritics', () => {
    const words = loadWordLists(path.join(PROJECT_ROOT, 'locales'));
    expect(words.skip.has('bo qua')).toBe(true);
    expect(words.skip.has('skip')).toBe(true);
    expect(words.commands.get('huy')).toEqual({ kind: 'cancel' });
    expect(words.done.has('xong')).toBe(true);
  });

  it('come from the files: a word added to a list is understood', () => {
    const words = loadWordLists(localesWith((vi) => vi.skip!.push('thôi khỏi')));
    expect(words.skip.has('thoi khoi')).toBe(true);
    expect(buildWordLists({ vi: { ...none(), done: ['Xong rồi'] } }).done).toEqual(new Set(['xong roi']));
  });
});
