import path from 'node:path';
import { PROJECT_ROOT } from '../../src/config';
import fs from 'node:fs';
import { loadWordLists, matchGlobalCommand, WordsFileError } from '../../src/engine/words';
import { tempDir } from '../support/harness';
import { normalizeText, parseOptionNumber, parseOptionNumbers } from '../../src/engine/normalize';
import { parseVietnamesePhone } from '../../src/validators';

describe('normalizeText', () => {
  it.each([
    ['Quay lại!', 'quay lai'],
    ['HUỶ', 'huy'],
    ['hủy', 'huy'],
    ['Đăng ký', 'dang ky'],
    ['  Nậm   Đét ', 'nam det'],
    ['Tả Củ Tỷ', 'ta cu ty'],
    ['Tà Chải', 'ta chai'],
  ])('%s → %s', (input, expected) => {
    expect(normalizeText(input)).toBe(expected);
  });

  it('treats NFC and NFD input alike', () => {
    expect(normalizeText('Bản Phố'.normalize('NFD'))).toBe(normalizeText('Bản Phố'.normalize('NFC')));
  });
});

describe('typed option numbers', () => {
  it.each([
    ['2', 2],
    [' 2. ', 2],
    ['số 3', 3],
    ['so 3', 3],
    ['#4', 4],
    ['12', 12],
    ['2 3', null],
    ['hai', null],
  ])('%s → %s', (input, expected) => {
    expect(parseOptionNumber(input)).toBe(expected);
  });

  it('reads several numbers for a multi-choice answer', () => {
    expect(parseOptionNumbers('1 3')).toEqual([1, 3]);
    expect(parseOptionNumbers('1,3, 5 và 6')).toEqual([1, 3, 5, 6]);
    expect(parseOptionNumbers('1 1 2')).toEqual([1, 2]);
    expect(parseOptionNumbers('sot')).toBeNull();
  });
});

describe('global commands', () => {
  const words = loadWordLists(path.join(PROJECT_ROOT, 'locales'));

  it.each([
    ['menu', 'menu'],
    ['Trang chủ', 'menu'],
    ['quay lại', 'back'],
    ['quay lai', 'back'],
    ['huỷ', 'cancel'],
    ['hủy', 'cancel'],
    ['huy', 'cancel'],
    ['Trợ giúp', 'help'],
    ['?', 'help'],
    ['/start', 'start'],
    ['/menu@BacHaBot', 'menu'],
    ['ngon ngu', 'language'],
    ['stop', 'unsubscribe'],
    ['Dừng', 'unsubscribe'],
    ['hủy nhận tin', 'unsubscribe'],
    ['đừng gửi nữa', 'unsubscribe'],
    ['thoi khong nhan thong bao nua', 'unsubscribe'],
  ])('%s means %s', (text, kind) => {
    expect(matchGlobalCommand(text, words)?.kind).toBe(kind);
  });

  it('only a whole message is a command', () => {
    expect(matchGlobalCommand('Hoàng Văn Huy', words)).toBeNull();
    expect(matchGlobalCommand('menu hôm nay', words)).toBeNull();
  });

  it('takes "dung" without diacritics for "đúng" (yes), not for "dừng" (stop)', () => {
    expect(matchGlobalCommand('dung', words)).toBeNull();
    expect(matchGlobalCommand('dừng!', words)?.kind).toBe('unsubscribe');
  });

  it('refuses a words file with a list missing, naming the file and the list', () => {
    const dir = tempDir('cgb-words-');
    for (const l of ['vi', 'en']) {
      fs.mkdirSync(path.join(dir, l));
      const words = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'locales', l, 'words.json'), 'utf8'));
      if (l === 'en') delete words.yes;
      fs.writeFileSync(path.join(dir, l, 'words.json'), JSON.stringify(words));
    }
    expect(() => loadWordLists(dir, dir)).toThrow(WordsFileError);
    expect(() => loadWordLists(dir, dir)).toThrow('en/words.json: yes:');
  });

  it('reads the words from locales/<lang>/words.json: another language is a folder', () => {
    expect(matchGlobalCommand('English', words)).toEqual({ kind: 'language', to: 'en' });
    expect(matchGlobalCommand('tiếng việt', words)).toEqual({ kind: 'language', to: 'vi' });
  });
});

describe('Vietnamese phone numbers', () => {
  it.each([
    ['0912 345 678', '+84912345678'],
    ['0912.345.678', '+84912345678'],
    ['+84 912 345 678', '+84912345678'],
    ['84912345678', '+84912345678'],
    ['0214 3880 123', '+842143880123'],
  ])('%s → %s', (input, expected) => {
    expect(parseVietnamesePhone(input)).toBe(expected);
  });

  it.each(['12345', '0912', '0123 456 789 999', 'abc', '+1 415 555 0100'])('%s is refused', (input) => {
    expect(parseVietnamesePhone(input)).toBeNull();
  });
});
