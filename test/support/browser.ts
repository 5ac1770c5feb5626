import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium (`apt-get install -y chromium`); nothing is downloaded. */
export const CHROMIUM = '/usr/bin/chromium';
/** Headless, nothing fetched in the background, no QUIC: the browser talks only to the test's server. */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** One browser for a test file: launch it in `beforeAll`, close it in `afterAll` (also when a test failed). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}
