// Issue 12 in the browser, against the fake API: the 註冊 page reads the chosen file first
// and refuses anything but one X.509 certificate, so a .pfx (with the private key) is never
// uploaded; a certificate is sent with the page's application serial. The development
// login's red banner is on every page.
//
// Build first: cargo xtask web     Run: npm test --prefix app/tests/browser

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startFakePortal } from '../lib/fake-portal.js';
import { launchBrowser, newPage, requireApp } from '../lib/browser.js';
import { openssl } from '../lib/ca.js';
import { DIST, shot } from '../lib/shots.js';
import { recordRequests } from '../lib/secrets.js';
import * as f from '../lib/flows.js';

let portal;
let browser;
let files;

before(async () => {
  requireApp(['index.html']);
  portal = await startFakePortal(DIST);
  browser = await launchBrowser();
  // A key, its self-signed certificate (DER and PEM) and a .pfx of both.
  files = mkdtempSync(path.join(tmpdir(), 'trust-'));
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'key.pem', '-subj', '/C=TW/CN=SingleWindow-01-B00051',
    '-days', '1', '-out', 'cert.pem'], { cwd: files });
  openssl(['x509', '-in', 'cert.pem', '-outform', 'DER', '-out', 'cert.cer'], { cwd: files });
  openssl(['pkcs12', '-export', '-in', 'cert.pem', '-inkey', 'key.pem', '-out', 'backup.pfx', '-passout', 'pass:Abcd1234'],
    { cwd: files });
});

after(async () => {
  await browser?.close();
  await portal?.close();
  if (files) rmSync(files, { recursive: true, force: true });
});

test('the 註冊 page refuses a .pfx, a key and a bundle before any upload, and sends a certificate with its application', async () => {
  const context = await browser.newContext({ locale: 'zh-TW' });
  const sent = recordRequests(context);
  const { page, problems } = await newPage(context, { allow: ['/api/session', '/api/registrations'] });
  await f.devLogin(page, portal.url);
  const { serial } = await f.apply(page, portal.url);
  await f.open(page, `${portal.url}/#/applications/${serial}/register`);
  await page.waitForSelector('#register-form');
  await page.fill('#f-staff-name', '林報關');

  const pfx = readFileSync(path.join(files, 'backup.pfx'));
  const key = readFileSync(path.join(files, 'key.pem'));
  const pem = readFileSync(path.join(files, 'cert.pem'));
  const attempts = [
    { name: 'backup.pfx', mimeType: 'application/x-pkcs12', buffer: pfx, says: '.pfx' },
    // Renamed: the extension does not fool the check, the content decides.
    { name: 'renamed.cer', mimeType: 'application/pkix-cert', buffer: pfx, says: '.pfx' },
    { name: 'key.cer', mimeType: 'application/pkix-cert', buffer: key, says: '不是憑證檔' },
    { name: 'two.cer', mimeType: 'application/pkix-cert', buffer: Buffer.concat([pem, pem]), says: '多張憑證' },
  ];
  for (const a of attempts) {
    await page.setInputFiles('#f-cer-file', { name: a.name, mimeType: a.mimeType, buffer: a.buffer });
    await page.click('#register-submit');
    await page.waitForSelector('#cer-file-refused');
    const text = await page.textContent('#cer-file-refused');
    assert.ok(text.includes(a.says), `${a.name}: ${text}`);
    if (a.name === 'backup.pfx') await shot(page, 'register-pfx-refused');
  }
  const uploads = () => sent.filter((r) => new URL(r.url).pathname === '/api/registrations');
  assert.equal(uploads().length, 0, 'nothing was uploaded');
  // No request carried any part of the .pfx.
  const head = pfx.subarray(0, 48).toString('base64').slice(0, 40);
  assert.ok(!sent.some((r) => r.body.includes(pfx.subarray(0, 64)) || r.body.toString().includes(head)));

  // One certificate (DER): sent, with the page's application serial.
  await page.setInputFiles('#f-cer-file', path.join(files, 'cert.cer'));
  await page.click('#register-submit');
  await page.waitForFunction(() => !document.querySelector('#cer-file-refused'));
  await page.waitForFunction(() => document.querySelector('#register-submit') && !document.querySelector('#register-submit').disabled);
  await page.waitForSelector('.error-box');
  assert.equal(uploads().length, 1);
  const body = JSON.parse(uploads()[0].body.toString());
  assert.equal(body.application_serial, serial);
  assert.equal(Buffer.from(body.cer_der_b64, 'base64').compare(readFileSync(path.join(files, 'cert.cer'))), 0);
  // The fake refuses a certificate it did not issue: that answer, in Chinese.
  assert.ok((await page.textContent('.error-box')).length > 0);
  assert.deepEqual(problems.filter((p) => !/status of 422/.test(p)), []);
  await context.close();
});

test('with the development login on, every page shows the red banner', async () => {
  const context = await browser.newContext({ locale: 'zh-TW' });
  const { page, problems } = await newPage(context);
  await f.open(page, `${portal.url}/#/login`);
  await page.waitForSelector('#dev-login-banner');
  await f.devLogin(page, portal.url);
  for (const hash of ['#/applications', '#/apply']) {
    await f.open(page, `${portal.url}/${hash}`);
    await page.waitForSelector('#dev-login-banner');
  }
  const color = await page.$eval('#dev-login-banner', (e) => getComputedStyle(e).backgroundColor);
  assert.equal(color, 'rgb(179, 38, 30)');
  await shot(page, 'dev-login-banner', { fullPage: false });
  assert.deepEqual(problems, []);
  await context.close();
});
