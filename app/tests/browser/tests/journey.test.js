// The full applicant journey against the real server (lib/portal.js): log in, apply, see
// the bill, the operator records the payment, generate, download both files (checked with
// openssl: the .pfx opens with the password and chains to the CA), register the .cer,
// change the contact, suspend, unsuspend, revoke (the CRL lists it). Every request body is
// captured: none may carry the private key, a PEM private key or the PFX password.
// Also: resume after a closed tab, bank reconciliation import, screenshots.
//
// Build first: cargo xtask web     Run: npm test --prefix app/tests/browser

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { launchBrowser, newPage, requireApp } from '../lib/browser.js';
import { startTarget } from '../lib/target.js';
import { shot, copyToDocs } from '../lib/shots.js';
import { recordRequests, encodings, leaks, vaultKey, vaultIds } from '../lib/secrets.js';
import { checkDownloads } from '../lib/pkcs12.js';
import { openssl } from '../lib/ca.js';
import * as f from '../lib/flows.js';

let portal;
let browser;
let work;

before(async () => {
  requireApp();
  work = mkdtempSync(path.join(tmpdir(), 'portal-app-journey-'));
  portal = await startTarget();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await portal?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

async function context() {
  const ctx = await browser.newContext({ acceptDownloads: true, locale: 'zh-TW', viewport: { width: 1280, height: 900 } });
  const requests = recordRequests(ctx);
  return { ctx, requests };
}

/** GET an API path with the page's session. */
function apiGet(page, p) {
  return page.evaluate(async (u) => {
    const r = await fetch(u, { credentials: 'same-origin' });
    return { status: r.status, body: await r.json().catch(() => null) };
  }, p);
}

async function saveDownloads(files, dir) {
  const out = {};
  for (const [ext, d] of Object.entries(files)) {
    out[ext] = path.join(dir, d.suggestedFilename());
    await d.saveAs(out[ext]);
  }
  return out;
}

/** Runs an application of `type` on `serial` from its action button in the query table. */
async function actOn(page, serial, action, { edit, reason, confirm } = {}) {
  await f.open(page, `${portal.url}/#/applications`);
  await page.click(`tr[data-serial="${serial}"] [data-action="${action}"]`);
  await page.waitForSelector('#apply-form');
  // The target's company and contact are loaded into the form first.
  await page.waitForFunction(() => document.querySelector('#f-company-name')?.value !== '');
  if (edit) await edit();
  if (reason) await page.fill('#f-reason', reason);
  await page.check('#f-privacy-consent');
  await page.click('#apply-submit');
  if (confirm) {
    await page.waitForSelector('.confirm');
    await page.click('.confirm button.primary');
  }
  await page.waitForSelector('.flash').catch(async (e) => {
    await shot(page, `failed-${action}`);
    throw e;
  });
  return (await page.textContent('.flash')).trim();
}

test('the applicant journey, with the key never leaving the browser', { timeout: 300_000 }, async () => {
  const PASSWORD = 'Journey2026pw';
  const applicant = await context();
  const { page, problems } = await newPage(applicant.ctx);

  // Log in, apply, see the bill.
  await f.devLogin(page, portal.url);
  await shot(page, 'applications-empty');
  const { serial, billNo } = await f.apply(page, portal.url);
  assert.equal((await page.textContent('#bill-amount')).trim(), 'NT$2,000');
  await shot(page, 'bill');
  let app = (await apiGet(page, `/api/applications/${serial}`)).body;
  assert.equal(app.status, '10');
  assert.deepEqual(app.actions.includes('generate'), false);

  // The operator records the payment.
  const operator = await context();
  const op = await newPage(operator.ctx);
  await f.operatorLogin(op.page, portal.url, portal.operator);
  await f.recordPayment(op.page, portal.url, billNo);
  await op.page.fill('#f-search-q', serial);
  await op.page.click('#admin-search');
  await op.page.waitForSelector(`#admin-applications tr[data-serial="${serial}"]`);
  await shot(op.page, 'operator-applications');

  // Generate from the query table's button.
  await f.open(page, `${portal.url}/#/applications`);
  await page.waitForSelector(`tr[data-serial="${serial}"] [data-action="generate"]`);
  await shot(page, 'applications');
  await page.click(`tr[data-serial="${serial}"] [data-action="generate"]`);
  await page.waitForSelector('#generate');
  await page.click('#generate');
  await page.waitForSelector('#download-form', { timeout: 60_000 });
  const pkcs8 = await vaultKey(page, serial);
  assert.ok(pkcs8 && pkcs8.length > 1000, 'the key is in the vault before the download');
  await shot(page, 'generate');

  // Download & backup.
  const files = await saveDownloads(await f.downloadFiles(page, { name: 'SW01cert', password: PASSWORD }), work);
  assert.equal(path.basename(files.pfx), 'SW01cert.pfx');
  assert.equal(path.basename(files.cer), 'SW01cert.cer');
  await shot(page, 'saved');
  assert.deepEqual(await vaultIds(page), [], 'the vault entry is deleted once the files are saved');
  const caPem = await (await fetch(`${portal.url}/ca.pem`)).text();
  const check = checkDownloads(work, { pfx: files.pfx, cer: files.cer, password: PASSWORD, caPem, pkcs8 });
  assert.match(check.verify, /leaf\.pem: OK/);
  assert.ok(check.sameCertificate, 'the .cer is the certificate in the .pfx');
  assert.ok(check.keyMatches, 'the .pfx holds the key generated in the browser');
  assert.ok(check.keyMatchesCert, 'the certificate is for that key');
  assert.ok(check.wrongPasswordRefused);
  assert.match(check.info, /pbeWithSHA1And3-KeyTripleDES-CBC/, 'compatible profile: 3DES');
  app = (await apiGet(page, `/api/applications/${serial}`)).body;
  assert.equal(app.status, 'A0');
  assert.equal(app.certificate.status, 'valid');

  // Register the .cer.
  await page.click('a[href$="/register"]');
  await page.waitForSelector('#register-form');
  await page.fill('#f-staff-name', '陳小華');
  await page.setInputFiles('#f-cer-file', files.cer);
  await page.click('#register-submit');
  await page.waitForSelector('#registered');
  await shot(page, 'registered');
  app = (await apiGet(page, `/api/applications/${serial}`)).body;
  assert.equal(app.certificate.registered, true);

  // Change the contact information.
  const changed = await actOn(page, serial, 'change', {
    edit: async () => {
      await page.fill('#f-contact-email', 'new.contact@example.com.tw');
      await page.fill('#f-contact-mobile', '0987654321');
    },
  });
  assert.match(changed, /修改申請已完成/);
  app = (await apiGet(page, `/api/applications/${serial}`)).body;
  assert.equal(app.contact.email, 'new.contact@example.com.tw');
  assert.equal(app.contact.mobile, '0987654321');

  // Renew: a new issuing application with its own bill, same certificate attributes.
  const renewed = await actOn(page, serial, 'renew');
  await page.waitForSelector('#bill-no');
  assert.equal(renewed, `申請成功，規費繳款書號碼：${(await page.textContent('#bill-no')).trim()}，請列印規費繳款書進行繳費`);
  const renewal = decodeURIComponent(new URL(page.url()).hash.split('/')[2]);
  const r = (await apiGet(page, `/api/applications/${renewal}`)).body;
  assert.equal(r.app_type, 'renew');
  assert.equal(r.status, '10');
  assert.equal(r.target, serial);
  assert.equal(r.box_number, app.box_number);
  assert.notEqual(r.bill.bill_no, billNo);

  // Suspend, unsuspend, revoke (with confirmation for suspend and revoke).
  await actOn(page, serial, 'suspend', { reason: 'lost laptop', confirm: true });
  assert.equal((await apiGet(page, `/api/applications/${serial}`)).body.certificate.status, 'suspended');
  await actOn(page, serial, 'unsuspend', { reason: 'laptop found' });
  assert.equal((await apiGet(page, `/api/applications/${serial}`)).body.certificate.status, 'valid');
  // The operator can suspend and lift it too (reason + confirmation).
  const certAction = async (action) => {
    await f.open(op.page, `${portal.url}/#/admin`);
    await op.page.fill('#f-search-q', serial);
    await op.page.click('#admin-search');
    const row = `#admin-applications tr[data-serial="${serial}"]`;
    await op.page.click(`${row} [data-action="${action}"]`);
    await op.page.fill('#f-cert-reason', `operator ${action}`);
    await op.page.click('#cert-action-submit');
    await op.page.click('#cert-action-form .confirm button.primary');
    await op.page.waitForSelector('#cert-action-form', { state: 'detached' });
  };
  await certAction('suspend');
  assert.equal((await apiGet(page, `/api/applications/${serial}`)).body.certificate.status, 'suspended');
  await certAction('unsuspend');
  assert.equal((await apiGet(page, `/api/applications/${serial}`)).body.certificate.status, 'valid');

  await f.open(page, `${portal.url}/#/applications`);
  await page.click(`tr[data-serial="${serial}"] [data-action="revoke"]`);
  await page.waitForSelector('#apply-form');
  await page.waitForFunction(() => document.querySelector('#f-company-name')?.value !== '');
  await page.fill('#f-reason', 'company closed');
  // The RFC 5280 reason is chosen on the form (issue 12.2) and reaches the CRL.
  await page.selectOption('#f-reason-code', 'cessationOfOperation');
  await page.check('#f-privacy-consent');
  await page.click('#apply-submit');
  await page.waitForSelector('.confirm');
  await shot(page, 'revoke-confirm');
  await page.click('.confirm button.primary');
  await page.waitForSelector('.flash');
  app = (await apiGet(page, `/api/applications/${serial}`)).body;
  assert.equal(app.certificate.status, 'revoked');
  assert.ok(!app.actions.includes('revoke'), 'a revoked certificate offers no further revocation');

  // The operator's CRL lists it; the audit log shows the story.
  await f.open(op.page, `${portal.url}/#/admin`);
  const [crlDownload] = await Promise.all([op.page.waitForEvent('download'), op.page.click('a[href="/crl/ca.crl"]')]);
  const crl = path.join(work, 'ca.crl');
  await crlDownload.saveAs(crl);
  const crlText = openssl(['crl', '-inform', 'DER', '-in', crl, '-noout', '-text']);
  const serialHex = app.certificate.serial_hex.replace(/^0+/, '').toUpperCase();
  assert.ok(crlText.toUpperCase().replace(/SERIAL NUMBER: 0*/g, 'SERIAL NUMBER: ').includes(`SERIAL NUMBER: ${serialHex}`),
    `the CRL lists ${serialHex}:\n${crlText}`);
  await f.open(op.page, `${portal.url}/#/admin/audit`);
  await op.page.waitForSelector('#audit tbody tr');
  assert.ok((await op.page.locator('#audit tbody tr').count()) >= 5);
  await shot(op.page, 'audit');

  // Nothing secret left the browser.
  const all = [...applicant.requests, ...operator.requests];
  assert.ok(all.some((r) => r.body.includes('BEGIN CERTIFICATE REQUEST')), 'the CSR was captured (the capture works)');
  assert.deepEqual(leaks(all, {
    pkcs8: encodings(pkcs8),
    'a PEM private key': [Buffer.from('PRIVATE KEY')],
    'the PFX password': [Buffer.from(PASSWORD)],
  }), []);
  assert.deepEqual([...problems, ...op.problems], []);
  await applicant.ctx.close();
  await operator.ctx.close();
  copyToDocs(['login', 'applications', 'apply-errors', 'bill', 'generate', 'saved', 'registered', 'operator-applications', 'audit', 'phone-applications']);
});

test('closing the tab between the CSR and the download loses nothing', { timeout: 180_000 }, async () => {
  const { ctx, requests } = await context();
  const { page, problems } = await newPage(ctx);
  const taxId = '04595257';
  await f.devLogin(page, portal.url, taxId);
  const operator = await context();
  const op = await newPage(operator.ctx);
  await f.operatorLogin(op.page, portal.url, portal.operator);

  // 1) The CSR reaches the server and is signed, but the tab closes before the answer.
  const first = await f.apply(page, portal.url);
  await f.recordPayment(op.page, portal.url, first.billNo);
  await f.open(page, `${portal.url}/#/applications/${first.serial}/generate`);
  let sent;
  const csrSeen = new Promise((resolve) => { sent = resolve; });
  await page.route('**/csr', async (route) => {
    const answer = await route.fetch();
    sent(answer.status());
  });
  await page.click('#generate');
  assert.equal(await csrSeen, 200, 'the server signed the CSR');
  const pkcs8 = await vaultKey(page, first.serial, taxId);
  assert.ok(pkcs8, 'the key was stored before the CSR was sent');
  await page.close();

  const again = await newPage(ctx);
  await f.open(again.page, `${portal.url}/#/applications`);
  await again.page.waitForSelector('#resume-banner');
  await shot(again.page, 'resume-banner');
  await again.page.click(`tr[data-serial="${first.serial}"] [data-action="resume"]`);
  await again.page.waitForSelector('#download-form');
  assert.ok(await again.page.isVisible('#resumed'));
  const files = await saveDownloads(await f.downloadFiles(again.page, { name: 'Resumed01', password: 'Resume2026', profile: 'modern' }), work);
  const caPem = await (await fetch(`${portal.url}/ca.pem`)).text();
  const check = checkDownloads(work, { pfx: files.pfx, cer: files.cer, password: 'Resume2026', caPem, pkcs8 });
  assert.match(check.verify, /OK/);
  assert.ok(check.keyMatches, 'the resumed .pfx holds the key made before the tab closed');
  assert.match(check.info, /AES-256-CBC/, 'modern profile: AES-256');

  // 2) The CSR never reaches the server (network lost): reopening sends it from the stored key.
  const second = await f.apply(again.page, portal.url);
  await f.recordPayment(op.page, portal.url, second.billNo);
  await f.open(again.page, `${portal.url}/#/applications/${second.serial}/generate`);
  await again.page.route('**/csr', (route) => route.abort('internetdisconnected'));
  await again.page.click('#generate');
  await again.page.waitForSelector('.error-box');
  const key2 = await vaultKey(again.page, second.serial, taxId);
  assert.ok(key2);
  await again.page.close();
  const third = await newPage(ctx);
  await f.open(third.page, `${portal.url}/#/applications/${second.serial}/generate`);
  await third.page.waitForSelector('#download-form', { timeout: 60_000 });
  const files2 = await saveDownloads(await f.downloadFiles(third.page, { name: 'Resumed02', password: 'Resume2026' }), mkdtempSync(path.join(work, 'r2-')));
  const check2 = checkDownloads(path.dirname(files2.pfx), { pfx: files2.pfx, cer: files2.cer, password: 'Resume2026', caPem, pkcs8: key2 });
  assert.ok(check2.keyMatches);

  assert.deepEqual(leaks(requests, {
    pkcs8: [...encodings(pkcs8), ...encodings(key2)],
    'a PEM private key': [Buffer.from('PRIVATE KEY')],
    'the PFX password': [Buffer.from('Resume2026')],
  }), []);
  // The aborted CSR request is the one expected failure on the second page.
  const expected = (p) => p.includes('Failed to load resource') || p.includes('net::ERR_INTERNET_DISCONNECTED');
  assert.deepEqual([...problems, ...third.problems, ...op.problems, ...again.problems.filter((p) => !expected(p))], []);
  await ctx.close();
  await operator.ctx.close();
});

test('the operator imports a bank reconciliation file, all or nothing', { timeout: 120_000 }, async () => {
  const applicant = await context();
  const { page, problems } = await newPage(applicant.ctx);
  await f.devLogin(page, portal.url, '12345670');
  const a = await f.apply(page, portal.url);
  const b = await f.apply(page, portal.url);
  const operator = await context();
  const op = await newPage(operator.ctx);
  await f.operatorLogin(op.page, portal.url, portal.operator);
  await f.open(op.page, `${portal.url}/#/admin/import`);
  const today = new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 10);
  // One bad line (wrong amount): nothing is applied.
  await op.page.fill('#f-csv', `bill_no,amount,paid_on\n${a.billNo},2000,${today}\n${b.billNo},1999,${today}\n`);
  await op.page.click('#import-submit');
  await op.page.waitForSelector('#import-report');
  await op.page.waitForSelector('#import-errors');
  assert.match(await op.page.textContent('#import-errors'), new RegExp(b.billNo));
  assert.equal((await apiGet(page, `/api/applications/${a.serial}`)).body.status, '10');
  // Fixed: both paid.
  const csv = path.join(work, 'bank.csv');
  writeFileSync(csv, `${a.billNo},2000,${today}\n${b.billNo},2000,${today}\n`);
  await op.page.setInputFiles('#csv-file', csv);
  await op.page.waitForFunction(() => document.querySelector('#f-csv').value.includes(','));
  await op.page.click('#import-submit');
  await op.page.waitForSelector('#import-report .success-box');
  await shot(op.page, 'operator-import');
  assert.equal((await apiGet(page, `/api/applications/${a.serial}`)).body.status, '20');
  assert.equal((await apiGet(page, `/api/applications/${b.serial}`)).body.status, '20');
  assert.deepEqual([...problems, ...op.problems.filter((p) => !p.includes('status of 422'))], []);
  await applicant.ctx.close();
  await operator.ctx.close();
});

test('Submit pressed again after a lost answer makes no second application', { timeout: 120_000 }, async () => {
  const TAX_ID = '22099131';
  const applicant = await context();
  const { page, problems } = await newPage(applicant.ctx);
  await f.devLogin(page, portal.url, TAX_ID);
  await f.open(page, `${portal.url}/#/apply`);
  await f.fillApplication(page);
  // The server gets the first submit and creates the application, but its answer is lost.
  const keys = [];
  let created;
  const seen = new Promise((resolve) => { created = resolve; });
  await page.route('**/api/applications', async (route) => {
    if (route.request().method() !== 'POST') return route.continue();
    keys.push(route.request().headers()['idempotency-key']);
    const answer = await route.fetch();
    created(answer.status());
    await route.abort('internetdisconnected');
  });
  await page.click('#apply-submit');
  assert.equal(await seen, 201, 'the first submit created the application');
  await page.waitForSelector('.error-box');
  await page.unroute('**/api/applications');
  // The form is still filled in; pressing Submit again answers with the same application.
  const second = page.waitForResponse((r) => r.url().endsWith('/api/applications') && r.request().method() === 'POST');
  await page.click('#apply-submit');
  const r = await second;
  assert.equal(r.status(), 200, 'the retry is answered with the application already made');
  keys.push(r.request().headers()['idempotency-key']);
  await page.waitForSelector('#bill-no');
  assert.match(keys[0], /^[0-9a-f]{32}$/);
  assert.equal(keys[1], keys[0], 'both submits carried the same Idempotency-Key');
  const list = await apiGet(page, '/api/applications');
  assert.equal(list.status, 200);
  assert.equal(list.body.total, 1, 'one application, not two');
  const serial = decodeURIComponent(new URL(page.url()).hash.split('/')[2]);
  assert.equal(list.body.items[0].serial, serial);
  // A new form is a new request: it gets a new key and a second application.
  await f.apply(page, portal.url);
  assert.equal((await apiGet(page, '/api/applications')).body.total, 2);
  const expected = (p) => p.includes('Failed to load resource') || p.includes('net::ERR_INTERNET_DISCONNECTED');
  assert.deepEqual(problems.filter((p) => !expected(p)), []);
  await applicant.ctx.close();
});
