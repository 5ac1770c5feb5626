import path from 'node:path';
import { PROJECT_ROOT } from '../../src/config';
import { matchTypedOption, matchTypedOptionsByWords } from '../../src/engine/optionAnswer';
import { loadWordLists } from '../../src/engine/words';

const words = loadWordLists(path.join(PROJECT_ROOT, 'locales'));
const travel = [
  { id: 'abroad', label: 'Có, từ nước ngoài', synonyms: ['nuoc ngoai'] },
  { id: 'epidemic-area', label: 'Có, từ vùng có dịch', synonyms: ['vung dich'] },
  { id: 'no', label: 'Không', synonyms: ['khong', 'ko', 'k'] },
];
const consent = [
  { id: 'yes', label: 'Đồng ý' },
  { id: 'no', label: 'Không đồng ý' },
];
const symptoms = [
  { id: 'fever', label: 'Sốt', synonyms: ['sot'] },
  { id: 'cough', label: 'Ho', synonyms: ['ho'] },
  { id: 'sore-throat', label: 'Đau họng', synonyms: ['dau hong'] },
  { id: 'none', label: 'Không có', synonyms: ['khong co', 'khong', 'ko', 'k'] },
];
const pick = (options: Array<{ id: string; label: string }>, typed: string, loose = true) => matchTypedOption(options, typed, words, loose)?.id;

describe('reading a typed answer to the options of a question', () => {
  it('takes a number, a label in any spelling, or a synonym', () => {
    expect(pick(travel, '2')).toBe('epidemic-area');
    expect(pick(travel, 'co tu nuoc ngoai')).toBe('abroad');
    expect(pick(travel, 'ko')).toBe('no');
  });

  it('takes yes/no words for the option that says yes or no, and only when one option does', () => {
    expect(pick(consent, 'ừ')).toBe('yes');
    expect(pick(consent, 'yes')).toBe('yes');
    expect(pick(consent, 'k')).toBe('no');
    expect(pick(travel, 'có')).toBeUndefined();
  });

  it('after a yes or no word, the rest of the message picks among the options that say so', () => {
    expect(pick(travel, 'co, o vung dich')).toBe('epidemic-area');
    expect(pick(travel, 'có ạ, em ở nước ngoài về')).toBe('abroad');
  });

  it('does not read a long message that merely contains a label, nor loosely at the main menu', () => {
    expect(pick(travel, 'toi muon hoi ve cach ly cho nguoi o vung dich ve tu lau')).toBeUndefined();
    expect(pick(travel, 'co, o vung dich', false)).toBeUndefined();
  });

  it('reads several answers word by word, skipping fillers', () => {
    const ids = (typed: string) => matchTypedOptionsByWords(symptoms, typed, words)?.map((o) => o.id) ?? null;
    expect(ids('sot ho')).toEqual(['fever', 'cough']);
    expect(ids('em bị sốt với ho, đau họng')).toEqual(['fever', 'cough', 'sore-throat']);
    expect(ids('sot 39 do')).toBeNull();
    expect(ids('khong co')).toEqual(['none']);
  });
});
