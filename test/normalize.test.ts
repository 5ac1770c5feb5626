import path from 'node:path';
import { PROJECT_ROOT } from '../src/config';
import { matchGlobalCommand } from '../src/engine/commands';
import { loadEngineWords } from '../src/engine/words';

const WORDS = loadEngineWords(path.join(PROJECT_ROOT, 'locales'));
import { normalizeText, parseOptionNumber, parseOptionNumbers } from '../src/engine/normalize';
import { parseVietnamesePhone } from '../src/validators';

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
  ])('%s means %s', (text, kind) => {
    expect(matchGlobalCommand(text, WORDS)?.kind).toBe(kind);
  });

  it('only a whole message is a command', () => {
    expect(matchGlobalCommand('Hoàng Văn Huy', WORDS)).toBeNull();
    expect(matchGlobalCommand('menu hôm nay', WORDS)).toBeNull();
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
