/*
 * Renders the sample poster shown in the README (docs/venue-poster.png and .pdf) from the Bắc Hà locality file and
 * the real texts: `node --import tsx scripts/renderSamplePoster.ts`. The venue and its code are examples.
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadTranslator } from '../src/i18n';
import { loadLocality } from '../src/locality/localitySchema';
import { renderPosterPdf, renderPosterPng } from '../src/venues/poster';
import { composePosterContent } from '../src/venues/posterContent';

const ROOT = path.resolve(__dirname, '..');

async function main(): Promise<void> {
  const locality = loadLocality(path.join(ROOT, 'localities', 'bac-ha.json'), ROOT);
  const i18n = loadTranslator(path.join(ROOT, 'locales'));
  const venue = { name: 'Chợ văn hoá Bắc Hà', kind: 'market' as const, plate: null, address: 'Thôn Bắc Hà 1', commune: 'tt-bac-ha', code: 'K7M3QX9A' };
  const content = composePosterContent(venue, locality, i18n, `https://bot.example.gov.vn/v/${venue.code}`);
  fs.mkdirSync(path.join(ROOT, 'docs'), { recursive: true });
  fs.writeFileSync(path.join(ROOT, 'docs', 'venue-poster.png'), renderPosterPng(content, 100 / 72));
  fs.writeFileSync(path.join(ROOT, 'docs', 'venue-poster.pdf'), await renderPosterPdf(content));
}

void main();
