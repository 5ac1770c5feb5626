import path from 'node:path';
import { createCanvas, GlobalFonts, type SKRSContext2D } from '@napi-rs/canvas';
import type { Pictogram } from './guidanceCards';

/**
 * Draws a guidance card as a PNG: a title band, then one row a step with a big number, a simple pictogram and a
 * few words, and a small footer (who issued it). The fonts (DejaVu Sans, every Vietnamese diacritic) ship in
 * assets/fonts. Plain shapes and flat colours keep the file small (a few tens of KB) for 2G phones.
 */

export interface CardContent {
  title: string;
  steps: Array<{ number: number; text: string; pictogram: Pictogram }>;
  footer: string;
}

const FONTS_DIR = path.join(__dirname, '..', '..', 'assets', 'fonts');
const WIDTH = 800;
const PAD = 32;
const TITLE_SIZE = 42;
const TEXT_SIZE = 34;
const NUMBER_SIZE = 60;
const ICON = 120;
const ROW_MIN = 150;
const COLOURS = { band: '#0b5394', bandText: '#ffffff', number: '#c0392b', text: '#111111', grey: '#555555', line: '#0b5394', rule: '#dddddd' };

let fontsRegistered = false;
function registerFonts(): void {
  if (fontsRegistered) return;
  GlobalFonts.registerFromPath(path.join(FONTS_DIR, 'DejaVuSans.ttf'), 'CardSans');
  GlobalFonts.registerFromPath(path.join(FONTS_DIR, 'DejaVuSans-Bold.ttf'), 'CardSansBold');
  fontsRegistered = true;
}

const font = (size: number, bold: boolean) => `${size}px ${bold ? 'CardSansBold' : 'CardSans'}`;

function wrap(ctx: SKRSContext2D, text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const candidate = line ? `${line} ${word}` : word;
    if (line && ctx.measureText(candidate).width > width) {
      lines.push(line);
      line = word;
    } else line = candidate;
  }
  if (line) lines.push(line);
  return lines;
}

/** The card as PNG bytes. */
export function renderGuidanceCard(content: CardContent): Buffer {
  registerFonts();
  // Measure first (on a scratch canvas), then draw on one of the right height.
  const scratch = createCanvas(10, 10).getContext('2d');
  scratch.font = font(TITLE_SIZE, true);
  const titleLines = wrap(scratch, content.title, WIDTH - 2 * PAD);
  const textX = PAD + 90 + 16 + ICON + 20;
  const textWidth = WIDTH - textX - PAD;
  scratch.font = font(TEXT_SIZE, true);
  const rows = content.steps.map((s) => ({ ...s, lines: wrap(scratch, s.text, textWidth) }));
  const bandHeight = PAD + titleLines.length * TITLE_SIZE * 1.2 + PAD / 2;
  const rowHeights = rows.map((r) => Math.max(ROW_MIN, r.lines.length * TEXT_SIZE * 1.25 + 30));
  const footerHeight = 50;
  const height = Math.round(bandHeight + rowHeights.reduce((a, b) => a + b, 0) + footerHeight);

  const canvas = createCanvas(WIDTH, height);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, WIDTH, height);
  ctx.fillStyle = COLOURS.band;
  ctx.fillRect(0, 0, WIDTH, bandHeight);
  ctx.textBaseline = 'top';
  ctx.fillStyle = COLOURS.bandText;
  ctx.font = font(TITLE_SIZE, true);
  titleLines.forEach((line, i) => ctx.fillText(line, PAD, PAD * 0.75 + i * TITLE_SIZE * 1.2));

  let y = bandHeight;
  rows.forEach((row, i) => {
    const h = rowHeights[i]!;
    if (i > 0) {
      ctx.fillStyle = COLOURS.rule;
      ctx.fillRect(PAD, y, WIDTH - 2 * PAD, 2);
    }
    const mid = y + h / 2;
    // The number in a circle.
    ctx.beginPath();
    ctx.arc(PAD + 45, mid, 45, 0, Math.PI * 2);
    ctx.fillStyle = COLOURS.number;
    ctx.fill();
    ctx.fillStyle = '#ffffff';
    ctx.font = font(NUMBER_SIZE, true);
    ctx.textBaseline = 'middle';
    const n = String(row.number);
    ctx.fillText(n, PAD + 45 - ctx.measureText(n).width / 2, mid + 2);
    drawPictogram(ctx, row.pictogram, PAD + 90 + 16, mid - ICON / 2, ICON);
    ctx.textBaseline = 'top';
    ctx.fillStyle = COLOURS.text;
    ctx.font = font(TEXT_SIZE, true);
    const textTop = mid - (row.lines.length * TEXT_SIZE * 1.25) / 2;
    row.lines.forEach((line, j) => ctx.fillText(line, textX, textTop + j * TEXT_SIZE * 1.25));
    y += h;
  });
  ctx.fillStyle = COLOURS.rule;
  ctx.fillRect(0, y, WIDTH, 2);
  ctx.fillStyle = COLOURS.grey;
  ctx.font = font(20, false);
  ctx.textBaseline = 'middle';
  ctx.fillText(content.footer, PAD, y + footerHeight / 2);
  return canvas.toBuffer('image/png');
}

/** Draws a pictogram in the square (x, y, size): outlines in one colour, a few filled marks. */
function drawPictogram(ctx: SKRSContext2D, name: Pictogram, x: number, y: number, size: number): void {
  const u = size / 12;
  const P = (px: number, py: number): [number, number] => [x + px * u, y + py * u];
  ctx.save();
  ctx.strokeStyle = COLOURS.line;
  ctx.fillStyle = COLOURS.line;
  ctx.lineWidth = u * 0.7;
  ctx.lineCap = 'round';
  ctx.lineJoin = 'round';
  const line = (...pts: Array<[number, number]>) => {
    ctx.beginPath();
    pts.forEach(([px, py], i) => (i === 0 ? ctx.moveTo(...P(px, py)) : ctx.lineTo(...P(px, py))));
    ctx.stroke();
  };
  const rect = (px: number, py: number, w: number, h: number, fill = false) => {
    const [rx, ry] = P(px, py);
    if (fill) ctx.fillRect(rx, ry, w * u, h * u);
    else ctx.strokeRect(rx, ry, w * u, h * u);
  };
  const circle = (px: number, py: number, r: number, fill = false) => {
    ctx.beginPath();
    ctx.arc(...P(px, py), r * u, 0, Math.PI * 2);
    if (fill) ctx.fill();
    else ctx.stroke();
  };
  const phone = () => {
    rect(3.5, 1, 5, 10);
    line([5.5, 9.8], [6.5, 9.8]);
  };
  const person = (cx: number, scale = 1) => {
    circle(cx, 3.5, 1.2 * scale, true);
    line([cx, 5], [cx, 8.5]);
    line([cx - 1.5 * scale, 6.3], [cx + 1.5 * scale, 6.3]);
    line([cx, 8.5], [cx - 1.2 * scale, 11]);
    line([cx, 8.5], [cx + 1.2 * scale, 11]);
  };
  const handset = (ox: number, oy: number, s: number) => {
    ctx.save();
    ctx.lineWidth = u * 1.4 * s;
    ctx.beginPath();
    ctx.moveTo(...P(ox, oy));
    ctx.quadraticCurveTo(...P(ox, oy + 5 * s), ...P(ox + 5 * s, oy + 6 * s));
    ctx.stroke();
    ctx.restore();
    circle(ox, oy, 1 * s, true);
    circle(ox + 5 * s, oy + 6 * s, 1 * s, true);
  };
  switch (name) {
    case 'store':
      phone();
      rect(4.7, 4, 2.6, 2.6, true);
      line([5.3, 4], [5.3, 3.2], [6.7, 3.2], [6.7, 4]);
      break;
    case 'search':
      circle(5, 5, 3);
      line([7.2, 7.2], [10.5, 10.5]);
      break;
    case 'install':
      line([6, 1.5], [6, 7.5]);
      line([3.5, 5], [6, 7.5], [8.5, 5]);
      line([2, 8.5], [2, 10.5], [10, 10.5], [10, 8.5]);
      break;
    case 'bluetooth':
      line([3.5, 3.5], [8.5, 8], [6, 10.5], [6, 1.5], [8.5, 4], [3.5, 8.5]);
      break;
    case 'running':
      phone();
      line([4.8, 5.8], [5.7, 6.8], [7.3, 4.4]);
      break;
    case 'phone':
      phone();
      rect(4.5, 2.5, 3, 2.5, true);
      break;
    case 'scan':
      line([1.5, 4], [1.5, 1.5], [4, 1.5]);
      line([8, 1.5], [10.5, 1.5], [10.5, 4]);
      line([1.5, 8], [1.5, 10.5], [4, 10.5]);
      line([8, 10.5], [10.5, 10.5], [10.5, 8]);
      line([3, 6], [9, 6]);
      break;
    case 'qr':
      rect(1.5, 1.5, 3.5, 3.5);
      rect(7, 1.5, 3.5, 3.5);
      rect(1.5, 7, 3.5, 3.5);
      rect(2.5, 2.5, 1.5, 1.5, true);
      rect(8, 2.5, 1.5, 1.5, true);
      rect(2.5, 8, 1.5, 1.5, true);
      rect(7, 7, 1.5, 1.5, true);
      rect(9, 9, 1.5, 1.5, true);
      rect(9, 7, 1, 1, true);
      rect(7, 9.5, 1, 1, true);
      break;
    case 'form':
      rect(2.5, 1.5, 7, 9.5);
      line([4, 4], [8, 4]);
      line([4, 6], [8, 6]);
      line([4, 8.5], [5, 9.5], [7.5, 7.5]);
      break;
    case 'camera':
      rect(1.5, 3.5, 9, 6.5);
      line([4, 3.5], [4.8, 2], [7.2, 2], [8, 3.5]);
      circle(6, 6.8, 2);
      break;
    case 'link':
      phone();
      line([4.5, 5], [7.5, 5]);
      line([4.5, 6.5], [7.5, 6.5]);
      line([6.5, 7.5], [8.5, 9.5], [7.3, 9.5], [7.8, 10.8]);
      break;
    case 'mask':
      circle(6, 6, 4.5);
      rect(3, 6, 6, 3, true);
      line([3, 6.5], [1.6, 5.2]);
      line([9, 6.5], [10.4, 5.2]);
      circle(4.4, 4.5, 0.5, true);
      circle(7.6, 4.5, 0.5, true);
      break;
    case 'wash':
      line([2, 9], [4, 6], [8, 6], [10, 9]);
      line([3, 10.5], [9, 10.5]);
      circle(4, 2.5, 0.7, true);
      circle(6, 1.8, 0.7, true);
      circle(8, 2.5, 0.7, true);
      circle(6, 4, 0.5, true);
      break;
    case 'distance':
      person(2, 0.8);
      person(10, 0.8);
      line([4, 9], [8, 9]);
      line([4.8, 8.2], [4, 9], [4.8, 9.8]);
      line([7.2, 8.2], [8, 9], [7.2, 9.8]);
      break;
    case 'crowd':
      person(3.5, 0.7);
      person(6, 0.7);
      person(8.5, 0.7);
      ctx.strokeStyle = COLOURS.number;
      line([1, 1], [11, 11]);
      break;
    case 'danger':
      line([6, 1], [11, 10.5], [1, 10.5], [6, 1]);
      line([6, 4.5], [6, 7.5]);
      circle(6, 9, 0.5, true);
      break;
    case 'call':
      handset(2.5, 2.5, 1.2);
      break;
    case 'station':
      rect(2, 3.5, 8, 7.5);
      line([1, 4], [6, 1], [11, 4]);
      rect(5.3, 5, 1.4, 4, true);
      rect(4, 6.3, 4, 1.4, true);
      break;
    case 'yes':
      ctx.strokeStyle = '#1e8449';
      circle(6, 6, 5);
      line([3.3, 6.2], [5.2, 8.2], [8.8, 4]);
      break;
    case 'no':
      ctx.strokeStyle = COLOURS.number;
      circle(6, 6, 5);
      line([4, 4], [8, 8]);
      line([8, 4], [4, 8]);
      break;
    default: {
      const unreachable: never = name;
      throw new Error(`drawPictogram: unknown pictogram ${String(unreachable)}`);
    }
  }
  ctx.restore();
}
