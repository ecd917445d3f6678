// card-bridge's /popupForm in real headless Chromium, between a test portal on an allowed
// origin and a look-alike on a disallowed one. Started by
// `cargo test -p card-bridge --test browser_popup` (which runs pcscd, the PIV emulator and
// the bridge, and passes their coordinates in the environment).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import { X509Certificate, verify } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

function env(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set: run through \`cargo test -p card-bridge --test browser_popup\``);
  }
  return value;
}

const BRIDGE = env('BRIDGE_URL');
const PORTAL_PORT = Number(env('PORTAL_PORT'));
const EVIL_PORT = Number(env('EVIL_PORT'));
const TBS = env('TBS');
const PIN = env('PIN');
const CARD_CERT_B64 = env('CARD_CERT_B64');
const RESULT_FILE = env('RESULT_FILE');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const PAGES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'pages');

/** Serves pages/ like a portal would: strict CSP, COOP that keeps popups' opener. */
function startSite(port) {
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    const file = { '/portal.html': 'portal.html', '/portal.js': 'portal.js' }[url.pathname];
    res.setHeader(
      'Content-Security-Policy',
      `default-src 'self'; script-src 'self'; connect-src 'self' ${BRIDGE}; object-src 'none'; base-uri 'none'`,
    );
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin-allow-popups');
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    const type = file.endsWith('.js') ? 'text/javascript' : 'text/html; charset=utf-8';
    res.writeHead(200, { 'Content-Type': type }).end(readFileSync(path.join(PAGES, file)));
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

let browser;
let portal;
let evil;

before(async () => {
  portal = await startSite(PORTAL_PORT);
  evil = await startSite(EVIL_PORT);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

after(async () => {
  await browser?.close();
  portal?.close();
  evil?.close();
});

function pageUrl(port, extra = {}) {
  const q = new URLSearchParams({ bridge: BRIDGE, tbs: TBS, pin: PIN, ...extra });
  return `http://127.0.0.1:${port}/portal.html?${q}`;
}

/** Opens the page, clicks "sign", returns { answer, messages, popup }. */
async function signFrom(context, port, extra = {}) {
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(pageUrl(port, extra));
  const popupOpened = page.waitForEvent('popup');
  await page.click('#sign');
  const popup = await popupOpened;
  await page.waitForFunction(() => window.__result, null, { timeout: 30000 });
  const answer = await page.evaluate(() => window.__result);
  const messages = await page.evaluate(() => window.__messages);
  assert.deepEqual(errors, []);
  return { answer, messages, popup, page };
}

test('allowed portal gets a signature that verifies with the card certificate', async () => {
  const context = await browser.newContext();
  const { answer, messages, popup } = await signFrom(context, PORTAL_PORT);
  const reply = JSON.parse(answer);
  assert.equal(reply.func, 'sign');
  assert.equal(reply.ret_code, 0, answer);
  assert.equal(reply.certb64, CARD_CERT_B64);
  const cert = new X509Certificate(Buffer.from(reply.certb64, 'base64'));
  assert.ok(
    verify('sha256', Buffer.from(TBS), cert.publicKey, Buffer.from(reply.signature, 'base64')),
    'PKCS#1 v1.5 SHA-256 signature verifies',
  );
  writeFileSync(RESULT_FILE, answer);
  const fromBridge = messages.filter((m) => m.origin === new URL(BRIDGE).origin);
  assert.deepEqual(fromBridge.map((m) => JSON.parse(m.data).func), ['getTbs', 'sign']);
  // The popup closes itself after answering.
  if (!popup.isClosed()) await popup.waitForEvent('close', { timeout: 5000 });
  await context.close();
});

test('wrong PIN comes back as a HiPKI login error with the tries left', async () => {
  const context = await browser.newContext();
  const { answer } = await signFrom(context, PORTAL_PORT, { pin: '000000' });
  const reply = JSON.parse(answer);
  assert.equal(reply.ret_code, 0x76100006, answer);
  assert.equal(reply.tries_left, 2, answer);
  assert.equal(reply.signature, undefined);
  await context.close();
});

test('disallowed origin gets nothing, even posting blindly', async () => {
  const context = await browser.newContext();
  const { answer, messages, popup } = await signFrom(context, EVIL_PORT, { blind: '1', timeout: '6000' });
  assert.equal(answer, 'timeout');
  assert.deepEqual(
    messages.filter((m) => m.origin === new URL(BRIDGE).origin),
    [],
    'the bridge never talks to a disallowed origin',
  );
  assert.equal(popup.isClosed(), false, 'the popup did not act on the request');
  await context.close();
});

test('CORS: /pkcs11info is readable by the portal only', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(pageUrl(PORTAL_PORT));
  await page.click('#info');
  await page.waitForFunction(() => window.__result);
  const info = JSON.parse(await page.evaluate(() => window.__result));
  assert.equal(info.ret_code, 0);
  assert.ok(info.slots.some((s) => s.token?.certs?.[0]?.certb64 === CARD_CERT_B64));

  const other = await context.newPage();
  await other.goto(pageUrl(EVIL_PORT));
  await other.click('#info');
  await other.waitForFunction(() => window.__result);
  assert.equal(await other.evaluate(() => window.__result), 'fetch-failed: TypeError');
  await context.close();
});

test('popup page runs under its CSP and says so when opened without a portal', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
  page.on('pageerror', (e) => problems.push(e.message));
  const response = await page.goto(`${BRIDGE}/popupForm`);
  assert.match(response.headers()['content-security-policy'], /script-src 'self'/);
  await page.waitForFunction(() => document.getElementById('status').textContent.includes('Open this window'));
  assert.deepEqual(problems, []);
  await context.close();
});
