// The applicant journey in a second engine, Debian Firefox ESR (driven headless over
// WebDriver BiDi by puppeteer-core, see tests/browser/lib/launcher.js), against the real
// server: log in, apply, the operator records the payment, generate the key in Firefox,
// download both files (the .pfx opens in openssl with the password and holds the key the
// browser made), register the .cer. Request bodies sent with fetch are captured in the page:
// none carries the private key or the PFX password (Chromium's journey test checks the same
// at the network level).
//
// Firefox saves downloads without telling puppeteer where, so the test takes the files the
// app hands to the browser (the Blob behind each object URL, with the anchor's file name).
//
// Build first: cargo xtask web     Run: npm test --prefix app/tests/browser

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { launchBrowser, newPage, requireApp } from '../lib/browser.js';
import { startPortal } from '../lib/portal.js';
import { encodings, vaultKey, vaultIds } from '../lib/secrets.js';
import { checkDownloads } from '../lib/pkcs12.js';
import * as f from '../lib/flows.js';

let portal;
let browser;
let work;

before(async () => {
  requireApp();
  work = mkdtempSync(path.join(tmpdir(), 'portal-app-firefox-'));
  portal = await startPortal();
  browser = await launchBrowser({ engine: 'firefox' });
});

after(async () => {
  await browser?.close();
  await portal?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Runs before the app: keeps each file the app saves, and the body of each fetch. */
function capture() {
  window.__saved = [];
  window.__sent = [];
  const blobs = new Map();
  const createObjectURL = URL.createObjectURL.bind(URL);
  URL.createObjectURL = (blob) => {
    const url = createObjectURL(blob);
    blobs.set(url, blob);
    return url;
  };
  const click = HTMLAnchorElement.prototype.click;
  HTMLAnchorElement.prototype.click = function () {
    if (this.download && blobs.has(this.href)) {
      window.__saved.push({ name: this.download, blob: blobs.get(this.href) });
      return undefined;
    }
    return click.call(this);
  };
  const fetch0 = window.fetch.bind(window);
  window.fetch = (input, init) => {
    const body = init?.body;
    window.__sent.push({
      url: String(input?.url ?? input),
      body: typeof body === 'string' ? body : body == null ? '' : `[${Object.prototype.toString.call(body)}]`,
    });
    return fetch0(input, init);
  };
}

/** The files the app saved so far, written to `dir`: { ext: path }. */
async function savedFiles(page, dir) {
  const saved = await page.evaluate(async () => Promise.all(window.__saved.map(async (s) => {
    const bytes = new Uint8Array(await s.blob.arrayBuffer());
    let bin = '';
    for (const b of bytes) bin += String.fromCharCode(b);
    return { name: s.name, b64: btoa(bin) };
  })));
  const out = {};
  for (const { name, b64 } of saved) {
    out[name.split('.').pop()] = path.join(dir, name);
    writeFileSync(path.join(dir, name), Buffer.from(b64, 'base64'));
  }
  return out;
}

test('Firefox ESR: the applicant journey, with the key never leaving the browser', { timeout: 300_000 }, async () => {
  const PASSWORD = 'Firefox2026pw';
  const taxId = '04595257';
  const applicantCtx = await browser.newContext();
  await applicantCtx.addInitScript(capture);
  const { page, problems } = await newPage(applicantCtx);
  assert.match(browser.version(), /firefox/i);

  await f.devLogin(page, portal.url, taxId);
  const { serial, billNo } = await f.apply(page, portal.url);
  assert.equal((await page.textContent('#bill-amount')).trim(), 'NT$2,000');

  const operatorCtx = await browser.newContext();
  const op = await newPage(operatorCtx);
  await f.operatorLogin(op.page, portal.url, portal.operator);
  await f.recordPayment(op.page, portal.url, billNo);

  await f.generate(page, portal.url, serial);
  const pkcs8 = await vaultKey(page, serial, taxId);
  assert.ok(pkcs8 && pkcs8.length > 1000, 'the key is in the vault before the download');

  await page.fill('#f-file-name', 'FXcert');
  await page.fill('#f-password', PASSWORD);
  await page.fill('#f-password-confirm', PASSWORD);
  await page.check('#f-profile-compatible');
  await page.click('#download-submit');
  await page.waitForSelector('#saved', { timeout: 60_000 });
  const files = await savedFiles(page, work);
  assert.deepEqual(Object.keys(files).sort(), ['cer', 'pfx']);
  assert.equal(path.basename(files.pfx), 'FXcert.pfx');
  assert.deepEqual(await vaultIds(page, taxId), [], 'the vault entry is deleted once the files are saved');

  const caPem = await (await fetch(`${portal.url}/ca.pem`)).text();
  const check = checkDownloads(work, { pfx: files.pfx, cer: files.cer, password: PASSWORD, caPem, pkcs8 });
  assert.match(check.verify, /leaf\.pem: OK/);
  assert.ok(check.sameCertificate, 'the .cer is the certificate in the .pfx');
  assert.ok(check.keyMatches, 'the .pfx holds the key generated in Firefox');
  assert.ok(check.keyMatchesCert, 'the certificate is for that key');
  assert.ok(check.wrongPasswordRefused);

  await page.click('a[href$="/register"]');
  await page.waitForSelector('#register-form');
  await page.fill('#f-staff-name', '陳小華');
  await page.setInputFiles('#f-cer-file', files.cer);
  await page.click('#register-submit');
  await page.waitForSelector('#registered');
  const app = (await f.api(page, 'GET', `/api/applications/${serial}`)).body;
  assert.equal(app.status, 'A0');
  assert.equal(app.certificate.registered, true);

  const sent = await page.evaluate(() => window.__sent);
  assert.ok(sent.some((r) => r.body.includes('BEGIN CERTIFICATE REQUEST')), 'the CSR was captured (the capture works)');
  const needles = [...encodings(pkcs8), Buffer.from('PRIVATE KEY'), Buffer.from(PASSWORD)].map(String);
  assert.deepEqual(sent.filter((r) => needles.some((n) => n.length > 0 && r.body.includes(n))).map((r) => r.url), []);
  assert.deepEqual([...problems, ...op.problems], []);
  await applicantCtx.close();
  await operatorCtx.close();
});
