// Debian Chromium through playwright-core (it cannot download browsers here), and a page
// wrapper that records everything that must stay empty: console errors, page errors,
// CSP violations, failed requests to our origin.

import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Taiwan's date format in <input type=date>, as the portal's users see it.
  '--lang=zh-TW',
];

export async function launchBrowser({ extraArgs = [] } = {}) {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: install it with \`apt-get install chromium\` (or set CHROMIUM_PATH)`);
  }
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS, ...extraArgs] });
}

/**
 * A new page in `context` whose console errors and uncaught errors land in `problems`.
 * Expected HTTP errors (e.g. the 401 of GET /api/session before login) are console
 * messages of type "error" in Chromium too; `allow` lists URL fragments whose failed
 * loads are part of the test.
 */
export async function newPage(context, { allow = ['/api/session'] } = {}) {
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const url = m.location()?.url ?? '';
    const text = m.text();
    if (url.endsWith('/favicon.ico')) return;
    // "Failed to load resource: the server responded with a status of 401" for an allowed URL.
    if (text.startsWith('Failed to load resource') && allow.some((a) => url.includes(a))) return;
    problems.push(`console.error: ${text} (${url})`);
  });
  return { page, problems };
}

/** Waits until the app replaced the shell's loading text. */
export async function waitForApp(page) {
  await page.waitForSelector('main#main');
  await page.waitForFunction(() => !document.querySelector('main .loading'));
}
