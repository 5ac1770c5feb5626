import fs from 'node:fs';
import path from 'node:path';
import { PNG } from 'pngjs';
import { renderTelegramReplies } from '../src/channels/telegram/renderTelegramReplies';
import { renderZaloReplies } from '../src/channels/zalo/renderZaloReplies';
import { PROJECT_ROOT } from '../src/config';
import { FlowValidationError } from '../src/engine/loadFlows';
import type { Reply } from '../src/engine/types';
import { GuidancePictureFileError, GuidancePictures } from '../src/guidance/GuidancePictures';
import { GUIDANCE_CARDS } from '../src/guidance/guidanceCards';
import { renderGuidanceCard } from '../src/guidance/renderGuidanceCard';
import { loadTranslator } from '../src/i18n';
import { loadDefinitions } from '../src/runtime';
import { buildEngine, Conversation, FIXTURES, flowsWithFixtures, tempDir } from './support/harness';

const i18n = loadTranslator(path.join(PROJECT_ROOT, 'locales'));
const VARS = { appName: 'Bluezone', appAndroidStore: 'CH Play', appIosStore: 'App Store', emergencyNumber: '115', stationName: 'Trạm Y tế xã Bản Phố', stationPhone: '0214 000 000' };

function pictures(dir = tempDir('cgb-pictures-')) {
  return new GuidancePictures({ dir, i18n, footer: () => 'huyện Bắc Hà, tỉnh Lào Cai', displayRoot: PROJECT_ROOT });
}

/** A small valid PNG, as a district would save one. */
function districtPng(width: number, height: number, rgb: [number, number, number]): Buffer {
  const png = new PNG({ width, height });
  for (let i = 0; i < width * height; i++) png.data.set([...rgb, 255], i * 4);
  return PNG.sync.write(png);
}

function darkPixels(png: PNG, x0: number, y0: number, x1: number, y1: number): number {
  let n = 0;
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) if (png.data[(y * png.width + x) * 4]! < 200) n++;
  return n;
}

describe('renderGuidanceCard', () => {
  it('draws a PNG that decodes, 800 pixels wide, taller with more steps, with the numbers and pictograms drawn', () => {
    const two = PNG.sync.read(renderGuidanceCard({ title: 'Quy tắc 5K', steps: [{ number: 1, text: 'Khẩu trang', pictogram: 'mask' }, { number: 2, text: 'Khử khuẩn', pictogram: 'wash' }], footer: 'huyện Bắc Hà' }));
    const five = PNG.sync.read(
      renderGuidanceCard({
        title: 'Quy tắc 5K',
        steps: (['mask', 'wash', 'distance', 'crowd', 'form'] as const).map((pictogram, i) => ({ number: i + 1, text: `Bước ${i + 1} với một câu khá dài để xuống dòng khi cần thiết`, pictogram })),
        footer: 'huyện Bắc Hà',
      }),
    );
    expect(two.width).toBe(800);
    expect(five.width).toBe(800);
    expect(five.height).toBeGreaterThan(two.height + 3 * 100);
    // The title band is blue across; the first row has a red number disc and a drawn pictogram next to it.
    const band = (two.width * 10 + 5) * 4;
    expect([two.data[band], two.data[band + 1], two.data[band + 2]]).toEqual([0x0b, 0x53, 0x94]);
    const firstRowTop = 100;
    expect(darkPixels(two, 32, firstRowTop, 122, firstRowTop + 140)).toBeGreaterThan(3000);
    expect(darkPixels(two, 140, firstRowTop, 260, firstRowTop + 140)).toBeGreaterThan(500);
  });
});

describe('GuidancePictures', () => {
  it('draws each card from its texts, under a name that changes with what it says', () => {
    const p = pictures();
    const fivek = p.resolve('fivek', 'vi', VARS)!;
    expect(fivek).toMatchObject({ kind: 'picture', id: 'fivek', caption: 'Quy tắc 5K' });
    expect(fivek.ref).toMatch(/^fivek-vi-[0-9a-f]{12}\.png$/);
    expect(fivek.alt).toContain('3. Khoảng cách: giữ khoảng cách 2 mét');
    expect(p.resolve('fivek', 'en', VARS)!.alt).toContain('3. Distance: keep 2 metres apart');
    const file = p.file(fivek.ref)!;
    expect(file.contentType).toBe('image/png');
    expect(PNG.sync.read(file.bytes).width).toBe(800);
    expect(file.bytes.length).toBeLessThan(300 * 1024);
    expect(p.resolve('fivek', 'vi', VARS)!.ref).toBe(fivek.ref);
    expect(p.file('fivek-vi-000000000000.png')).toBeNull();
  });

  it('draws every known picture ahead of time, once', async () => {
    const p = pictures();
    const refs = [p.resolve('fivek', 'vi', VARS)!.ref, p.resolve('qr-zalo', 'en', VARS)!.ref];
    expect(await p.drawAll()).toBe(2);
    expect(await p.drawAll()).toBe(0);
    for (const ref of refs) expect(p.file(ref)!.bytes.length).toBeGreaterThan(1000);
  });

  it('puts the station phone of the locality on the 115 card, and leaves the step off when the phone is not known', () => {
    const p = pictures();
    const known = p.resolve('emergency', 'vi', VARS)!;
    expect(known.alt).toContain('2. Gọi ngay 115 (cấp cứu)');
    expect(known.alt).toContain('3. Gọi Trạm Y tế xã Bản Phố: 0214 000 000');
    const unknown = p.resolve('emergency', 'vi', { ...VARS, stationPhone: '' })!;
    expect(unknown.alt).not.toContain('Trạm Y tế');
    expect(unknown.alt.split('\n')).toHaveLength(3);
    expect(unknown.ref).not.toBe(known.ref);
    expect(PNG.sync.read(p.file(unknown.ref)!.bytes).height).toBeLessThan(PNG.sync.read(p.file(known.ref)!.bytes).height);
  });

  it("uses the district's file as it is: for one language in <lang>/, for every language at the top", () => {
    const dir = tempDir('cgb-pictures-');
    fs.mkdirSync(path.join(dir, 'vi'));
    const own5k = districtPng(40, 30, [200, 0, 0]);
    const icon = districtPng(64, 64, [0, 90, 200]);
    fs.writeFileSync(path.join(dir, 'vi', 'fivek.png'), own5k);
    fs.writeFileSync(path.join(dir, 'app-icon.png'), icon);
    fs.writeFileSync(path.join(dir, 'vi', 'fivk.png'), own5k);
    const p = pictures(dir);
    const vi = p.resolve('fivek', 'vi', VARS)!;
    expect(p.file(vi.ref)!.bytes.equals(own5k)).toBe(true);
    expect(vi.alt).toContain('Khẩu trang');
    // English has no file of its own: the drawn card.
    expect(p.file(p.resolve('fivek', 'en', VARS)!.ref)!.bytes.equals(own5k)).toBe(false);
    for (const locale of ['vi', 'en']) {
      const shown = p.resolve('app-icon', locale, VARS)!;
      expect(p.file(shown.ref)!.bytes.equals(icon)).toBe(true);
    }
    expect(p.resolve('app-icon', 'en', VARS)!.caption).toBe('The right icon of the Bluezone app');
    expect(p.unusedFiles).toEqual([path.relative(PROJECT_ROOT, path.join(dir, 'vi', 'fivk.png'))]);
  });

  it('shows no app icon unless the district supplies the file (the official logo is not drawn)', () => {
    expect(GUIDANCE_CARDS.find((c) => c.id === 'app-icon')!.fileOnly).toBe(true);
    expect(pictures().resolve('app-icon', 'vi', VARS)).toBeNull();
  });

  it('refuses, naming the file, a picture that is not PNG or JPEG, or too large for Zalo', () => {
    const dir = tempDir('cgb-pictures-');
    fs.writeFileSync(path.join(dir, 'fivek.png'), 'not a picture');
    expect(() => pictures(dir)).toThrow(GuidancePictureFileError);
    expect(() => pictures(dir)).toThrow(/fivek\.png: not a PNG or JPEG picture/);
    fs.writeFileSync(path.join(dir, 'fivek.png'), Buffer.concat([districtPng(2, 2, [0, 0, 0]), Buffer.alloc(1100 * 1024)]));
    expect(() => pictures(dir)).toThrow(/at most 1024 KB/);
  });
});

describe('flows that show pictures', () => {
  const { engine } = buildEngine({ picturesDir: tempDir('cgb-pictures-') });
  const kinds = (replies: Reply[]) => replies.map((r) => (r.kind === 'picture' ? `picture:${r.id}` : r.kind));

  async function person(userId = `u-${Math.random().toString(36).slice(2)}`) {
    const c = new Conversation(engine, 'telegram', userId);
    await c.onboard();
    return c;
  }

  it('sends the 5K card before the 5K text', async () => {
    const c = await person();
    await c.say('quy tac 5k');
    expect(kinds(c.last).slice(0, 2)).toEqual(['picture:fivek', 'text']);
  });

  it('sends the install card of the phone chosen, and no icon picture without the district file', async () => {
    const c = await person();
    await c.start('bluezone');
    await c.say('2');
    expect(kinds(c.last)).toEqual(['picture:install-iphone', 'text', 'choices']);
    expect(c.last.some((r) => r.kind === 'text' && r.text.includes('biểu tượng giống trên trang http://www.bluezone.gov.vn'))).toBe(true);
  });

  it('sends the QR cards with the matching steps', async () => {
    const c = await person();
    await c.start('qr__zaloText');
    expect(kinds(c.last)[0]).toBe('picture:qr-zalo');
  });

  it('asks the voice-message consent with a picture-and-number card, and does not resend it when asked again', async () => {
    const c = await person();
    await c.voice('voice-1');
    expect(kinds(c.last)).toEqual(['picture:callback-consent', 'choices']);
    const card = c.last[0] as Extract<Reply, { kind: 'picture' }>;
    expect(card.alt).toContain('1. Có');
    expect(card.alt).toContain('2. Không');
    await c.say('zzz qqq');
    expect(kinds(c.last)).toContain('choices');
    expect(kinds(c.last)).not.toContain('picture:callback-consent');
  });

  it('sends the icon picture in the install steps when the district supplies it', async () => {
    const dir = tempDir('cgb-pictures-');
    fs.writeFileSync(path.join(dir, 'app-icon.png'), districtPng(64, 64, [0, 90, 200]));
    const c = new Conversation(buildEngine({ picturesDir: dir }).engine, 'zalo', 'z-1');
    await c.onboard();
    await c.start('bluezone');
    await c.say('1');
    expect(kinds(c.last)).toEqual(['picture:install-android', 'picture:app-icon', 'text', 'choices']);
    // The text then points at the picture, not at another website.
    const text = c.last.find((r) => r.kind === 'text') as Extract<Reply, { kind: 'text' }>;
    expect(text.text).toContain('biểu tượng giống ảnh bên trên');
    expect(text.text).not.toContain('bluezone.gov.vn');
  });

  it('a flow naming an unknown picture stops start-up, naming the file and step', () => {
    const dir = flowsWithFixtures();
    const file = path.join(dir, 'qr.json');
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('"picture": "qr-zalo"', '"picture": "qr-zallo"'));
    const load = () =>
      loadDefinitions({ localityFile: path.join(PROJECT_ROOT, 'localities', 'bac-ha.json'), localesDir: path.join(PROJECT_ROOT, 'locales'), flowsDir: dir }, { moreLocalesDirs: [path.join(FIXTURES, 'locales')] });
    expect(load).toThrow(FlowValidationError);
    expect(load).toThrow(/qr\.json: steps\.zaloText\.picture: unknown picture 'qr-zallo'/);
  });
});

describe('picture replies in the channel renderers', () => {
  const p = pictures();
  const card = p.resolve('fivek', 'vi', VARS)!;

  it('Telegram: flushes the texts before it, then a photo by its name with the title as caption', () => {
    expect(renderTelegramReplies([{ kind: 'text', text: 'Trước' }, card, { kind: 'text', text: 'Sau' }]).map((c) => c.method)).toEqual(['sendMessage', 'sendPicture', 'sendMessage']);
    expect(renderTelegramReplies([card])[0]).toEqual({ method: 'sendPicture', picture: card.ref, alt: card.alt, caption: 'Quy tắc 5K', parse_mode: 'HTML' });
  });

  it('Zalo: an image to upload, or its text when this server does not have the picture', () => {
    const [image] = renderZaloReplies([card], () => '', p);
    expect(image).toMatchObject({ kind: 'image', caption: 'Quy tắc 5K' });
    const source = image!.kind === 'image' ? image!.source : '';
    expect(source.startsWith('data:image/png;base64,')).toBe(true);
    expect(PNG.sync.read(Buffer.from(source.split(',')[1]!, 'base64')).width).toBe(800);
    expect(renderZaloReplies([{ ...card, ref: 'fivek-vi-000000000000.png' }], () => '', p)).toEqual([{ kind: 'text', text: card.alt }]);
  });
});
