import path from 'node:path';
import { PROJECT_ROOT } from '../../src/config';
import {
  isSkipReply,
  parseChoiceReply,
  parseEnginePick,
  parseInputReply,
  parseLocationReply,
  parseMultiReply,
  parsePhotoReply,
  parseResumeReply,
  parseSummaryReply,
  tappedOptionId,
} from '../../src/engine/replyParsers';
import type { InboundEvent } from '../../src/engine/types';
import { loadWordLists } from '../../src/engine/words';

const words = loadWordLists(path.join(PROJECT_ROOT, 'locales'));
const base = { channel: 'web' as const, userId: 'u', eventId: 'e' };
const text = (t: string): InboundEvent => ({ ...base, kind: 'text', text: t });
const tap = (optionId: string): InboundEvent => ({ ...base, kind: 'choice', optionId });

const travel = [
  { id: 'abroad', label: 'Có, từ nước ngoài' },
  { id: 'area', label: 'Có, từ vùng có dịch' },
  { id: 'no', label: 'Không', means: 'no' as const },
];
const symptoms = [
  { id: 'fever', label: 'Sốt' },
  { id: 'cough', label: 'Ho' },
  { id: 'throat', label: 'Đau họng' },
  { id: 'none', label: 'Không có' },
];

describe('reply parsers (pure: they say what a reply means and change nothing)', () => {
  it('a tapped button names an option of its own step only', () => {
    expect(tappedOptionId(tap('travel:area'), 'travel')).toBe('area');
    expect(tappedOptionId(tap('gender:area'), 'travel')).toBeNull();
    expect(tappedOptionId(text('1'), 'travel')).toBeNull();
  });

  it('a single choice takes a tap, a number, a natural answer or a yes/no word, and fails on anything else', () => {
    expect(parseChoiceReply(tap('travel:abroad'), 'travel', travel, words, true)).toEqual({ kind: 'answer', option: travel[0] });
    expect(parseChoiceReply(text('2'), 'travel', travel, words, true)).toEqual({ kind: 'answer', option: travel[1] });
    expect(parseChoiceReply(text('co tu vung co dich'), 'travel', travel, words, true)).toEqual({ kind: 'answer', option: travel[1] });
    expect(parseChoiceReply(text('ko'), 'travel', travel, words, true)).toEqual({ kind: 'answer', option: travel[2] });
    expect(parseChoiceReply(text('giá lợn hôm nay'), 'travel', travel, words, true)).toEqual({ kind: 'fail' });
    expect(parseChoiceReply(text('9'), 'travel', travel, words, true)).toEqual({ kind: 'fail' });
  });

  it('a multiple choice: taps toggle a draft that "done" sends; numbers and words answer at once', () => {
    expect(parseMultiReply(tap('s:cough'), 's', symptoms, ['fever'], words)).toEqual({ kind: 'toggle', draft: ['fever', 'cough'] });
    expect(parseMultiReply(tap('s:fever'), 's', symptoms, ['fever', 'cough'], words)).toEqual({ kind: 'toggle', draft: ['cough'] });
    expect(parseMultiReply(tap('s:done'), 's', symptoms, [], words)).toEqual({ kind: 'empty' });
    expect(parseMultiReply(tap('s:done'), 's', symptoms, ['cough'], words)).toEqual({ kind: 'answer', ids: ['cough'] });
    expect(parseMultiReply(text('3 1'), 's', symptoms, null, words)).toEqual({ kind: 'answer', ids: ['fever', 'throat'] });
    expect(parseMultiReply(text('1 7'), 's', symptoms, null, words)).toEqual({ kind: 'fail' });
    expect(parseMultiReply(text('sot va ho'), 's', symptoms, null, words)).toEqual({ kind: 'answer', ids: ['fever', 'cough'] });
    expect(parseMultiReply(text('bao giờ sửa đường'), 's', symptoms, null, words)).toEqual({ kind: 'fail' });
  });

  it("a pick among the engine's own buttons takes the whole button id, a number or a label", () => {
    const offer = [
      { id: '$:menu', label: 'Về menu' },
      { id: '$:go:myreports', label: 'Báo cáo của tôi' },
    ];
    expect(parseEnginePick(tap('$:go:myreports'), offer, words, false)).toBe(offer[1]);
    expect(parseEnginePick(tap('summary:confirm'), offer, words, false)).toBeUndefined();
    expect(parseEnginePick(text('1'), offer, words, false)).toBe(offer[0]);
    expect(parseEnginePick(text('bao cao cua toi'), offer, words, false)).toBe(offer[1]);
    expect(parseEnginePick(text('3'), offer, words, false)).toBeUndefined();
  });

  it('skip and the summary read their words and numbers', () => {
    expect(isSkipReply(tap('photo:skip'), 'photo', words)).toBe(true);
    expect(isSkipReply(text('bo qua'), 'photo', words)).toBe(true);
    expect(isSkipReply(text('1'), 'photo', words)).toBe(true);
    expect(isSkipReply(text('anh day'), 'photo', words)).toBe(false);
    expect(parseSummaryReply(text('1'), 'summary', words)).toBe('confirm');
    expect(parseSummaryReply(tap('summary:edit'), 'summary', words)).toBe('edit');
    expect(parseSummaryReply(text('2'), 'summary', words)).toBe('edit');
    expect(parseSummaryReply(text('5'), 'summary', words)).toBeNull();
  });

  it('a typed answer is the text as written, the shared phone where asked, a skip word only where optional', () => {
    expect(parseInputReply(text('  Nguyễn Văn A '), {}, words)).toEqual({ kind: 'answer', value: '  Nguyễn Văn A ' });
    expect(parseInputReply(text('bo qua'), {}, words)).toEqual({ kind: 'answer', value: 'bo qua' });
    expect(parseInputReply(text('bo qua'), { optional: true }, words)).toEqual({ kind: 'skip' });
    // A number is a possible answer to a typed question (an age, a temperature), never a skip.
    expect(parseInputReply(text('1'), { optional: true }, words)).toEqual({ kind: 'answer', value: '1' });
    const contact: InboundEvent = { ...base, kind: 'contact', phone: '+84912345678' };
    expect(parseInputReply(contact, { requestPhone: true }, words)).toEqual({ kind: 'answer', value: '+84912345678' });
    expect(parseInputReply(contact, {}, words)).toEqual({ kind: 'fail' });
    expect(parseInputReply({ ...base, kind: 'photo', fileRef: 'f' }, {}, words)).toEqual({ kind: 'fail' });
  });

  it('a location or a photo answers its question; a skip counts only where the step is optional', () => {
    const place: InboundEvent = { ...base, kind: 'location', latitude: 22.54, longitude: 104.29 };
    expect(parseLocationReply(place, 'where', false, words)).toEqual({ kind: 'answer', value: { latitude: 22.54, longitude: 104.29 } });
    expect(parseLocationReply(text('bo qua'), 'where', true, words)).toEqual({ kind: 'skip' });
    expect(parseLocationReply(tap('where:skip'), 'where', true, words)).toEqual({ kind: 'skip' });
    expect(parseLocationReply(text('bo qua'), 'where', false, words)).toEqual({ kind: 'fail' });
    expect(parseLocationReply(text('thon Na Hoi'), 'where', true, words)).toEqual({ kind: 'fail' });
    const photo: InboundEvent = { ...base, channel: 'zalo', kind: 'photo', fileRef: 'https://photo/1.jpg' };
    expect(parsePhotoReply(photo, 'photo', false, words)).toEqual({ kind: 'answer', value: { fileRef: 'https://photo/1.jpg', channel: 'zalo' } });
    expect(parsePhotoReply(text('1'), 'photo', true, words)).toEqual({ kind: 'skip' });
    expect(parsePhotoReply(text('1'), 'photo', false, words)).toEqual({ kind: 'fail' });
    expect(parsePhotoReply(place, 'photo', true, words)).toEqual({ kind: 'fail' });
  });

  it('"continue or start again" reads the buttons, 1 and 2, its words and its labels typed out', () => {
    const labels = { continue: 'Làm tiếp', restart: 'Làm lại từ đầu' };
    expect(parseResumeReply(tap('$:continue'), '$', labels, words)).toBe('continue');
    expect(parseResumeReply(tap('$:restart'), '$', labels, words)).toBe('restart');
    expect(parseResumeReply(tap('other:restart'), '$', labels, words)).toBeNull();
    expect(parseResumeReply(text('1'), '$', labels, words)).toBe('continue');
    expect(parseResumeReply(text('tiep tuc'), '$', labels, words)).toBe('continue');
    expect(parseResumeReply(text('2'), '$', labels, words)).toBe('restart');
    expect(parseResumeReply(text('lam lai tu dau'), '$', labels, words)).toBe('restart');
    expect(parseResumeReply(text('3'), '$', labels, words)).toBeNull();
    expect(parseResumeReply(text('gia lon hom nay'), '$', labels, words)).toBeNull();
  });
});
