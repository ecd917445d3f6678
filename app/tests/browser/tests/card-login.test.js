// IC-card login end to end, without hardware: pcscd + vsmartcard vpcd + the PIV emulator
// (card-bridge/tests/support/piv_vicc.py) holding a test business certificate → the real
// card-bridge binary → the app (dist/) in headless Chromium → the real portal server with
// the test root in auth.card_roots and the development login off.
//
// The card side is card-bridge's own PC/SC harness, run as a helper process
// (card-bridge/tests/card_stack.rs, driven by lines on stdin/stdout). It needs pcscd, the
// vpcd driver, root or passwordless sudo (pcscd runs in a private mount namespace) and a
// python with `cryptography` (PIV_PYTHON; scripts/test.sh sets it). Without pcscd or vpcd
// the tests are skipped with a loud message; anything else missing is a failure.
//
// Build first: cargo xtask web     Run: npm test --prefix app/tests/browser

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startPortal } from '../lib/portal.js';
import { launchBrowser, newPage, requireApp } from '../lib/browser.js';
import { ROOT } from '../lib/shots.js';
import * as f from '../lib/flows.js';

function missingPcsc() {
  const missing = [];
  if (spawnSync('sh', ['-c', 'command -v pcscd'], { stdio: 'ignore' }).status !== 0) missing.push('pcscd');
  const drivers = [
    process.env.VPCD_DRIVER,
    '/usr/lib/pcsc/drivers/serial/libifdvpcd.so',
    '/usr/lib64/pcsc/drivers/serial/libifdvpcd.so',
    '/usr/local/lib/pcsc/drivers/serial/libifdvpcd.so',
  ].filter(Boolean);
  if (!drivers.some((d) => existsSync(d))) missing.push('vsmartcard-vpcd (libifdvpcd.so)');
  return missing;
}

const MISSING = missingPcsc();
const SKIP = MISSING.length
  ? `IC-card end-to-end tests SKIPPED: ${MISSING.join(', ')} not installed (scripts/setup.sh test installs them)`
  : false;
if (SKIP) {
  const bar = '!'.repeat(SKIP.length);
  console.warn(`\n${bar}\n${SKIP}\n${bar}\n`);
}

/** Builds card-bridge's card_stack test target; returns its executable. */
function buildCardStack() {
  const r = spawnSync('cargo', ['test', '-p', 'card-bridge', '--test', 'card_stack', '--no-run',
    '--message-format=json-render-diagnostics'], {
    cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error('cargo test -p card-bridge --test card_stack --no-run failed');
  for (const line of r.stdout.split('\n').reverse()) {
    if (!line.startsWith('{')) continue;
    const m = JSON.parse(line);
    if (m.reason === 'compiler-artifact' && m.target?.name === 'card_stack' && m.executable) return m.executable;
  }
  throw new Error('no card_stack test executable in cargo\'s output');
}

/** The card stack process: `send(line)`, `expect(word)` → the rest of its next line. */
function startCardStack() {
  const child = spawn(buildCardStack(), ['--ignored', '--exact', 'card_stack_for_the_app_browser_test',
    '--nocapture', '--test-threads=1'], {
    cwd: ROOT, env: { ...process.env, CARD_STACK: '1' }, stdio: ['pipe', 'pipe', 'pipe'],
  });
  const log = [];
  const lines = [];
  let waiter = null;
  child.stderr.on('data', (d) => log.push(String(d)));
  createInterface({ input: child.stdout }).on('line', (l) => {
    log.push(`${l}\n`);
    // libtest's "test … ... " has no newline, so the first line shares its line.
    const at = l.indexOf('CARD-STACK ');
    if (at < 0) return;
    lines.push(l.slice(at + 'CARD-STACK '.length));
    waiter?.();
  });
  let exited = false;
  child.on('exit', () => {
    exited = true;
    waiter?.();
  });
  return {
    log,
    send: (line) => child.stdin.write(`${line}\n`),
    async expect(word, ms = 120_000) {
      const deadline = Date.now() + ms;
      for (;;) {
        const i = lines.findIndex((l) => l === word || l.startsWith(`${word} `));
        if (i >= 0) return lines.splice(i, 1)[0].slice(word.length + 1);
        if (exited) throw new Error(`card stack exited before ${word}:\n${log.join('')}`);
        if (Date.now() > deadline) throw new Error(`card stack: no ${word} in time:\n${log.join('')}`);
        await new Promise((resolve) => {
          waiter = resolve;
          setTimeout(resolve, 500);
        });
        waiter = null;
      }
    },
    async close() {
      if (exited) return;
      child.stdin.end('QUIT\n');
      await new Promise((resolve) => (exited ? resolve() : child.once('exit', resolve)));
    },
  };
}

let stack;
let portal;
let browser;
let pki;
let bridgeUrl;
let confDir;

before(async () => {
  if (SKIP) return;
  requireApp(['index.html']);
  stack = startCardStack();
  pki = JSON.parse(await stack.expect('PKI'));
  // Lists are easiest to give the server in its config file; env variables override it.
  confDir = mkdtempSync(path.join(tmpdir(), 'portal-card-'));
  const conf = path.join(confDir, 'portal.toml');
  writeFileSync(conf, `[auth]\ncard_roots = [${JSON.stringify(pki.root)}]\n` +
    `card_intermediates = [${JSON.stringify(pki.intermediate)}]\n`);
  portal = await startPortal({ env: { PORTAL_CONFIG: conf, PORTAL_AUTH__DEV_LOGIN: 'false' } });
  stack.send(`ORIGIN ${portal.url}`);
  bridgeUrl = await stack.expect('READY');
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await portal?.close();
  await stack?.close();
  if (confDir) rmSync(confDir, { recursive: true, force: true });
});

async function session() {
  const context = await browser.newContext({ locale: 'zh-TW' });
  // Expected failures: 401s of /api/session before login and of a refused card login,
  // the 404 of the (switched off) development login.
  const { page, problems } = await newPage(context, {
    allow: ['/api/session', '/api/auth/card/login', '/api/auth/dev-login'],
  });
  await f.open(page, `${portal.url}/#/login`);
  await page.evaluate((u) => localStorage.setItem('portal.cardBridge', u), bridgeUrl);
  return { context, page, problems };
}

async function apiSession(page) {
  return page.evaluate(async () => {
    const r = await fetch('/api/session');
    return { status: r.status, body: r.ok ? await r.json() : null };
  });
}

async function cardLogin(page, pin) {
  await page.fill('#f-pin', pin);
  await page.click('#card-login-submit');
}

const ERROR = '#card-login-form .error-box';

test('a card from the trusted root logs in as the company on its certificate', { skip: SKIP }, async () => {
  const { context, page, problems } = await session();
  // The development login is off on this server.
  const dev = await page.evaluate(async () => (await fetch('/api/auth/dev-login', {
    method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Requested-With': 'portal' },
    body: JSON.stringify({ role: 'applicant', tax_id: '04595257', display_name: 'x' }),
  })).status);
  assert.equal(dev, 404);
  // A wrong PIN: the card's own answer, through the bridge.
  await cardLogin(page, '654321');
  await page.waitForSelector(ERROR, { timeout: 60_000 });
  assert.match(await page.textContent(ERROR), /PIN碼錯誤/);
  assert.equal((await apiSession(page)).status, 401);
  // The right PIN: logged in as the tax ID in the card's certificate.
  await cardLogin(page, pki.pin);
  await page.waitForSelector('#query-submit', { timeout: 60_000 });
  assert.equal(await page.inputValue('#f-tax-id'), pki.tax_id);
  const s = await apiSession(page);
  assert.equal(s.status, 200);
  assert.equal(s.body.role, 'applicant');
  assert.equal(s.body.tax_id, pki.tax_id);
  assert.equal(s.body.company_name, pki.company);
  // 12.3: the form shows the card's company name as it shows the tax ID: yellow, read-only.
  await page.evaluate(() => { location.hash = '#/apply'; });
  await page.waitForSelector('#f-company-name');
  assert.equal(await page.inputValue('#f-company-name'), pki.company);
  const looks = (sel) => page.$eval(sel, (e) => ({
    readOnly: e.readOnly, background: getComputedStyle(e).backgroundColor,
  }));
  const [name, taxId] = [await looks('#f-company-name'), await looks('#f-tax-id')];
  assert.equal(name.readOnly, true);
  assert.equal(taxId.readOnly, true);
  assert.equal(name.background, taxId.background);
  const phone = await looks('#f-company-phone');
  assert.equal(phone.readOnly, false);
  assert.notEqual(name.background, phone.background);
  assert.deepEqual(problems, []);
  await context.close();
});

test('cards from an untrusted root, expired, revoked or of unknown status are refused in the page', { skip: SKIP }, async () => {
  const refusals = [
    ['untrusted', /本系統不接受此 IC 卡的憑證/, /not trusted/],
    ['expired', /本系統不接受此 IC 卡的憑證/, /expired/],
    // On the CRL at the card's distribution point (auth.card_revocation is "require").
    ['revoked', /此工商憑證已被廢止或暫禁/, /請洽經濟部工商憑證管理中心/],
    // Its distribution point answers 503: the status cannot be determined.
    ['unknown', /無法確認工商憑證是否已被廢止，請稍後再試/, /稍後再試/],
  ];
  for (const [card, says, why] of refusals) {
    stack.send(`INSERT ${card}`);
    const [inserted, url] = (await stack.expect('INSERTED')).split(' ');
    assert.equal(inserted, card);
    bridgeUrl = url;
    const { context, page, problems } = await session();
    await cardLogin(page, pki.pin);
    await page.waitForSelector(ERROR, { timeout: 60_000 });
    const text = await page.textContent(ERROR);
    assert.match(text, says, card);
    assert.match(text, why, card);
    assert.equal((await apiSession(page)).status, 401, card);
    assert.equal(await page.locator('#card-bridge-download').count(), 0, card);
    assert.deepEqual(problems, [], card);
    await context.close();
  }
});

test('without a running bridge the page says so and links to the download page', { skip: SKIP }, async () => {
  stack.send('STOP-BRIDGE');
  await stack.expect('STOPPED');
  const { context, page, problems } = await session();
  const started = Date.now();
  await cardLogin(page, pki.pin);
  await page.waitForSelector('#card-bridge-download', { timeout: 30_000 });
  const waited = Date.now() - started;
  assert.match(await page.textContent(ERROR), /無法連線到本機憑證元件/);
  assert.equal((await apiSession(page)).status, 401);
  // The link opens the portal's instructions, naming this portal's origin to allow.
  const [download] = await Promise.all([context.waitForEvent('page'), page.click('#card-bridge-download')]);
  await download.waitForLoadState();
  assert.equal(new URL(download.url()).pathname, '/downloads/card-bridge');
  const run = await download.textContent('#run-command');
  assert.equal(run.trim(), `card-bridge serve --allow-origin ${portal.url}`);
  for (const os of ['Linux', 'macOS', 'Windows']) assert.match(await download.textContent('main'), new RegExp(os));
  console.log(`# bridge not running: message after ${waited} ms`);
  assert.deepEqual(problems, []);
  await context.close();
});
