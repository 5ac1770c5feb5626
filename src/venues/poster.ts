import path from 'node:path';
import { createCanvas, GlobalFonts } from '@napi-rs/canvas';
import PDFDocument from 'pdfkit';
import QRCode from 'qrcode';

/**
 * The poster a venue prints and posts at its entrance: an A4 page with the district header, the venue's name and
 * code, a large QR code of its check-in link, three short instructions (Vietnamese, then English) and the commune's
 * contact. One layout, drawn twice: as a PDF (pdfkit, fonts embedded) and as a PNG (skia canvas) for chats that
 * show images. The fonts (DejaVu Sans, with every Vietnamese diacritic) ship in assets/fonts with their licence.
 */

export interface PosterContent {
  /** Lines at the top, e.g. "HUYỆN BẮC HÀ · TỈNH LÀO CAI". */
  header: string;
  title: string;
  titleEn: string;
  venueName: string;
  /** Kind and address, e.g. "Chợ · Thôn Bắc Hà 1, Thị trấn Bắc Hà". */
  venueLine: string;
  /** "Mã địa điểm: K7M3QX9A" */
  codeLine: string;
  /** What the QR code encodes: the venue's check-in link. */
  link: string;
  /** Three instructions, each as [Vietnamese, English]. */
  steps: Array<[string, string]>;
  /** "Liên hệ: ..." or null to leave it off. */
  contact: string | null;
  /** Small print at the bottom (the link written out). */
  footer: string;
}

export const FONTS_DIR = path.join(__dirname, '..', '..', 'assets', 'fonts');
const FONT_REGULAR = path.join(FONTS_DIR, 'DejaVuSans.ttf');
const FONT_BOLD = path.join(FONTS_DIR, 'DejaVuSans-Bold.ttf');

/** A4 in PDF points. */
const PAGE = { width: 595.28, height: 841.89, margin: 42 };

type Op =
  | { kind: 'text'; text: string; x: number; y: number; size: number; bold: boolean; width: number; grey?: boolean }
  | { kind: 'qr'; x: number; y: number; size: number; modules: boolean[][] }
  | { kind: 'rule'; x: number; y: number; width: number };

/** Measures a text's width in points at a font size. */
type Measure = (text: string, size: number, bold: boolean) => number;

function wrap(text: string, size: number, bold: boolean, width: number, measure: Measure): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const candidate = line ? `${line} ${word}` : word;
    if (line && measure(candidate, size, bold) > width) {
      lines.push(line);
      line = word;
    } else line = candidate;
  }
  if (line) lines.push(line);
  return lines;
}

function qrModules(link: string): boolean[][] {
  const qr = QRCode.create(link, { errorCorrectionLevel: 'M' });
  const n = qr.modules.size;
  const rows: boolean[][] = [];
  for (let r = 0; r < n; r++) {
    const row: boolean[] = [];
    for (let c = 0; c < n; c++) row.push(Boolean(qr.modules.get(r, c)));
    rows.push(row);
  }
  return rows;
}

/** Where everything goes on the page, in points; centred lines carry the full width and are centred by the renderer. */
function layoutPoster(content: PosterContent, measure: Measure): Op[] {
  const ops: Op[] = [];
  const { margin } = PAGE;
  const width = PAGE.width - 2 * margin;
  let y = margin;
  const centred = (text: string, size: number, bold: boolean, gap = 4, grey = false) => {
    for (const line of wrap(text, size, bold, width, measure)) {
      ops.push({ kind: 'text', text: line, x: margin, y, size, bold, width, grey });
      y += size * 1.25;
    }
    y += gap;
  };
  centred(content.header, 12, true, 2);
  centred(content.title, 18, true, 0);
  centred(content.titleEn, 12, false, 6, true);
  ops.push({ kind: 'rule', x: margin, y, width });
  y += 12;
  centred(content.venueName, content.venueName.length > 40 ? 22 : 28, true, 2);
  centred(content.venueLine, 12, false, 2);
  centred(content.codeLine, 14, true, 14);
  // Square and with white space around it (the quiet zone scanners look for).
  const qrSize = 290;
  ops.push({ kind: 'qr', x: (PAGE.width - qrSize) / 2, y, size: qrSize, modules: qrModules(content.link) });
  y += qrSize + 18;
  const stepX = margin + 22;
  const stepWidth = width - 22;
  content.steps.forEach(([vi, en], i) => {
    ops.push({ kind: 'text', text: `${i + 1}.`, x: margin, y, size: 14, bold: true, width: 0 });
    for (const line of wrap(vi, 14, true, stepWidth, measure)) {
      ops.push({ kind: 'text', text: line, x: stepX, y, size: 14, bold: true, width: 0 });
      y += 17.5;
    }
    for (const line of wrap(en, 11, false, stepWidth, measure)) {
      ops.push({ kind: 'text', text: line, x: stepX, y, size: 11, bold: false, width: 0, grey: true });
      y += 14;
    }
    y += 6;
  });
  if (content.contact) {
    y += 4;
    ops.push({ kind: 'rule', x: margin, y, width });
    y += 10;
    centred(content.contact, 12, true, 2);
  }
  const footerY = PAGE.height - margin - 10;
  for (const line of wrap(content.footer, 9, false, width, measure).slice(0, 2)) {
    ops.push({ kind: 'text', text: line, x: margin, y: Math.max(y, footerY), size: 9, bold: false, width, grey: true });
    y = Math.max(y, footerY) + 11;
  }
  return ops;
}

/** The poster as an A4 PDF with the fonts embedded. */
export async function renderPosterPdf(content: PosterContent): Promise<Buffer> {
  const doc = new PDFDocument({ size: 'A4', margin: 0, info: { Title: content.venueName, Subject: content.codeLine } });
  doc.registerFont('regular', FONT_REGULAR);
  doc.registerFont('bold', FONT_BOLD);
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  const measure: Measure = (text, size, bold) => doc.font(bold ? 'bold' : 'regular').fontSize(size).widthOfString(text);
  for (const op of layoutPoster(content, measure)) {
    if (op.kind === 'text') {
      doc
        .font(op.bold ? 'bold' : 'regular')
        .fontSize(op.size)
        .fillColor(op.grey ? '#444444' : '#000000');
      if (op.width > 0) doc.text(op.text, op.x, op.y, { width: op.width, align: 'center', lineBreak: false });
      else doc.text(op.text, op.x, op.y, { lineBreak: false });
    } else if (op.kind === 'rule') {
      doc.moveTo(op.x, op.y).lineTo(op.x + op.width, op.y).lineWidth(1).strokeColor('#000000').stroke();
    } else {
      const n = op.modules.length;
      const cell = op.size / n;
      doc.fillColor('#000000');
      op.modules.forEach((row, r) => row.forEach((dark, c) => dark && doc.rect(op.x + c * cell, op.y + r * cell, cell + 0.01, cell + 0.01)));
      doc.fill();
    }
  }
  doc.end();
  return done;
}

let fontsRegistered = false;
function registerCanvasFonts(): void {
  if (fontsRegistered) return;
  GlobalFonts.registerFromPath(FONT_REGULAR, 'PosterSans');
  GlobalFonts.registerFromPath(FONT_BOLD, 'PosterSansBold');
  fontsRegistered = true;
}

/** The poster as a PNG (A4 at about 150 dpi), for chats that show images. */
export function renderPosterPng(content: PosterContent, scale = 150 / 72): Buffer {
  registerCanvasFonts();
  const canvas = createCanvas(Math.round(PAGE.width * scale), Math.round(PAGE.height * scale));
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  const font = (size: number, bold: boolean) => `${size * scale}px ${bold ? 'PosterSansBold' : 'PosterSans'}`;
  const measure: Measure = (text, size, bold) => {
    ctx.font = font(size, bold);
    return ctx.measureText(text).width / scale;
  };
  ctx.textBaseline = 'top';
  for (const op of layoutPoster(content, measure)) {
    if (op.kind === 'text') {
      ctx.font = font(op.size, op.bold);
      ctx.fillStyle = op.grey ? '#444444' : '#000000';
      const x = op.width > 0 ? op.x + (op.width - measure(op.text, op.size, op.bold)) / 2 : op.x;
      ctx.fillText(op.text, x * scale, op.y * scale);
    } else if (op.kind === 'rule') {
      ctx.fillStyle = '#000000';
      ctx.fillRect(op.x * scale, op.y * scale, op.width * scale, Math.max(1, scale));
    } else {
      const n = op.modules.length;
      const cell = (op.size * scale) / n;
      ctx.fillStyle = '#000000';
      op.modules.forEach((row, r) =>
        row.forEach((dark, c) => {
          if (!dark) return;
          // Whole pixels, so that neighbouring modules leave no hairline gaps for a scanner to trip on.
          const x0 = Math.round(op.x * scale + c * cell);
          const y0 = Math.round(op.y * scale + r * cell);
          ctx.fillRect(x0, y0, Math.round(op.x * scale + (c + 1) * cell) - x0, Math.round(op.y * scale + (r + 1) * cell) - y0);
        }),
      );
    }
  }
  return canvas.toBuffer('image/png');
}
