import { renderTelegramReplies } from '../../src/channels/telegram/renderTelegramReplies';
import { renderZaloReplies } from '../../src/channels/zalo/renderZaloReplies';
import type { Reply } from '../../src/engine/types';
import { findVenueCode, generateVenueCode, placeKey, plateVN, VENUE_CODE_ALPHABET } from '../../src/venues/venueCodes';
import { renderPosterPdf, renderPosterPng, type PosterContent } from '../../src/venues/poster';
import { buildEngine, Conversation } from '../support/harness';
import { decodeQr, pdfText } from '../support/posterReading';

const poster: Reply = { kind: 'document', url: 'https://bot.example/venues/poster/K7M3QX9A.pdf', imageUrl: 'https://bot.example/venues/poster/K7M3QX9A.png', fileName: 'ma-qr-K7M3QX9A.pdf', caption: 'Tờ mã QR' };

describe('venue codes', () => {
  it('are 8 random characters without look-alikes, and do not repeat', () => {
    const codes = new Set(Array.from({ length: 2000 }, generateVenueCode));
    expect(codes.size).toBe(2000);
    for (const code of codes) expect(code).toMatch(new RegExp(`^[${VENUE_CODE_ALPHABET}]{8}$`));
    expect(VENUE_CODE_ALPHABET).not.toMatch(/[01ILO]/);
  });

  it('are found in what people type, in any case, and not in ordinary words', () => {
    expect(findVenueCode('Mã địa điểm k7m3qx9a')).toBe('K7M3QX9A');
    expect(findVenueCode('K7M3QX9A')).toBe('K7M3QX9A');
    expect(findVenueCode('diem danh')).toBeNull();
    expect(findVenueCode('K7M3QX9AB')).toBeNull();
    expect(findVenueCode('0912345678')).toBeNull();
  });

  it('one place is one key however its name and address are typed', () => {
    expect(placeKey('Chợ văn hoá Bắc Hà', 'Thôn Bắc Hà 1')).toBe(placeKey('CHỢ VĂN HOÁ BẮC HÀ.', ' thôn bắc hà  1 '));
    expect(placeKey('Chợ Bắc Hà', 'Thôn 1')).not.toBe(placeKey('Chợ Bắc Hà', 'Thôn 2'));
  });

  it('plate numbers are read as written on the plate', () => {
    expect(plateVN('24B-012.34', { locale: 'vi', now: 0 })).toEqual({ ok: true, value: '24B-01234' });
    expect(plateVN('24b01234', { locale: 'vi', now: 0 })).toEqual({ ok: true, value: '24B01234' });
    expect(plateVN('xe khach', { locale: 'vi', now: 0 })).toMatchObject({ ok: false });
  });
});

describe('a check-in link opens only an entry step, and its answer is checked like a typed one', () => {
  it('a venue link with a malformed code asks for the code, and a link into a step not marked entry opens the flow at its start, with nothing filled in', async () => {
    const { engine } = buildEngine();
    const c = new Conversation(engine);
    await c.onboard();
    expect(await c.start('checkin__code__not-a-code')).toContain('Chưa thấy mã địa điểm');
    expect(c.session?.step).toBe('code');
    const refused = await c.start('venue__ownerPhone__0912345678');
    expect(c.session?.step).not.toBe('ownerPhone');
    expect(c.session?.answers.ownerPhone).toBeUndefined();
    expect(refused).not.toContain('Kiểm tra lại thông tin');
  });

  it('"tôi muốn tạo mã QR cho cửa hàng" opens venue registration', async () => {
    const { engine } = buildEngine();
    const c = new Conversation(engine);
    await c.onboard();
    expect(await c.say('toi muon tao ma qr cho cua hang')).toContain('chủ cơ sở');
    expect(c.session?.flow).toBe('venue');
  });
});

describe('the poster reply on each channel', () => {
  it('Telegram sends the PDF as a document', () => {
    expect(renderTelegramReplies([poster])).toEqual([{ method: 'sendDocument', document: poster.kind === 'document' ? poster.url : '', caption: 'Tờ mã QR', parse_mode: 'HTML' }]);
  });
  it('Zalo sends the picture, then the link to the PDF', () => {
    const out = renderZaloReplies([poster], () => '');
    expect(out).toEqual([
      { kind: 'image', source: 'https://bot.example/venues/poster/K7M3QX9A.png' },
      { kind: 'text', text: 'Tờ mã QR\nhttps://bot.example/venues/poster/K7M3QX9A.pdf' },
    ]);
  });
});

describe('the poster files', () => {
  const content: PosterContent = {
    header: 'HUYỆN BẮC HÀ · TỈNH LÀO CAI',
    title: 'ĐIỂM QUÉT MÃ QR',
    titleEn: 'QR check-in point',
    venueName: 'Nhà nghỉ Sơn Hà – Lùng Phình',
    venueLine: 'Nhà nghỉ · Thôn Lùng Choáng',
    codeLine: 'Mã địa điểm: K7M3QX9A',
    link: 'https://bot.example/v/K7M3QX9A',
    steps: [
      ['Quét mã khi đến.', 'Scan when you arrive.'],
      ['Bấm “Vào”.', 'Tap “Check in”.'],
      ['Gõ “rời đi” khi về.', 'Type “leave” when you go.'],
    ],
    contact: null,
    footer: 'https://bot.example/v/K7M3QX9A',
  };

  it('the PDF embeds its fonts and reads back with every diacritic; without a contact there is no contact line', async () => {
    const pdf = await renderPosterPdf(content);
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    expect(pdf.toString('latin1')).toContain('/FontFile2');
    const { text } = await pdfText(pdf);
    expect(text).toContain('Nhà nghỉ Sơn Hà – Lùng Phình');
    expect(text).toContain('Gõ “rời đi” khi về.');
    expect(text).not.toContain('Liên hệ');
  });

  it('the PNG is A4 at 150 dpi and its QR code decodes to the link', () => {
    const png = renderPosterPng(content);
    expect(png.readUInt32BE(16)).toBe(1240);
    expect(png.readUInt32BE(20)).toBe(1754);
    expect(decodeQr(png)).toBe('https://bot.example/v/K7M3QX9A');
  });
});
