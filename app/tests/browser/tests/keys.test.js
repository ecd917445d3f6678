// Keys kept in the browser (issue 12 point 7), in real headless Chromium against the fake
// API: the generate page discards a stored key only after a confirmation (zh-TW and
// English), and a second company logged in to the same browser does not see the first
// one's stored key.
//
// Build first: cargo xtask web     Run: npm test --prefix app/tests/browser

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startFakePortal } from '../lib/fake-portal.js';
import { launchBrowser, newPage, requireApp } from '../lib/browser.js';
import { DIST, shot } from '../lib/shots.js';
import { vaultIds } from '../lib/secrets.js';
import * as f from '../lib/flows.js';

let portal;
let browser;

before(async () => {
  requireApp();
  portal = await startFakePortal(DIST);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await portal?.close();
});

/** Logs in as `taxId`, applies, and has the fake's operator mark the bill paid. */
async function paidApplication(page, taxId = f.COMPANY.taxId, { loggedIn = false } = {}) {
  if (!loggedIn) await f.devLogin(page, portal.url, taxId);
  const { serial } = await f.apply(page, portal.url);
  const a = portal.store.apps.find((x) => x.serial === serial);
  Object.assign(a.bill, { status: 'paid', paid_at: new Date().toISOString() });
  a.status = '20';
  return serial;
}

async function logout(page) {
  await page.click('button.link-button:has-text("登出")');
  await page.waitForSelector('#dev-login-submit');
}

async function text(page, selector) {
  return (await page.textContent(selector)).replace(/\s+/g, ' ').trim();
}

test('a stored key is discarded from the generate page only after the user confirms', async () => {
  const context = await browser.newContext({ acceptDownloads: true, locale: 'zh-TW' });
  const { page, problems } = await newPage(context);
  try {
    const serial = await paidApplication(page);
    await f.generate(page, portal.url, serial);
    assert.deepEqual(await vaultIds(page), [serial], 'the key is stored before the download');

    // Asked first; "取消" keeps the key.
    await page.click('#discard-key');
    await page.waitForSelector('#discard-dialog');
    assert.equal(await page.getAttribute('#discard-dialog', 'role'), 'alertdialog');
    assert.match(await text(page, '#discard-question'), /確定要捨棄此金鑰嗎？捨棄後無法復原/);
    assert.equal(await text(page, '#discard-confirm'), '確定捨棄');
    await shot(page, 'discard-key');
    await page.click('#discard-cancel');
    assert.equal(await page.locator('#discard-dialog').count(), 0);
    assert.deepEqual(await vaultIds(page), [serial], 'cancel keeps the key');
    assert.ok(await page.isVisible('#download-form'));

    // The same question in English.
    await page.click('.lang-switch');
    await page.click('#discard-key');
    assert.match(await text(page, '#discard-question'), /^Discard this key\? This cannot be undone/);
    assert.equal(await text(page, '#discard-confirm'), 'Discard');
    await page.click('.lang-switch');

    // Confirmed: the vault entry is gone, and with the certificate already issued only the
    // .cer is left to offer.
    await page.click('#discard-confirm');
    await page.waitForSelector('#key-discarded');
    assert.match(await text(page, '#key-discarded'), /已捨棄此瀏覽器保存的金鑰/);
    assert.deepEqual(await vaultIds(page), []);
    await page.waitForSelector('#no-key');
    assert.equal(await page.locator('#download-form').count(), 0);

    // Reopening the page finds no key either.
    await f.open(page, `${portal.url}/#/applications/${serial}/generate`);
    await page.waitForSelector('#no-key');
    assert.equal(await page.locator('#discard-key').count(), 0);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test("another company logged in to the same browser does not see or resume the first one's key", async () => {
  const context = await browser.newContext({ acceptDownloads: true, locale: 'zh-TW' });
  const { page, problems } = await newPage(context);
  try {
    const serial = await paidApplication(page);
    await f.generate(page, portal.url, serial);
    await f.open(page, `${portal.url}/#/applications`);
    await page.waitForSelector('#resume-banner');

    // Company B in the same browser: an empty vault and no "finish download" banner.
    const other = '04595257';
    await logout(page);
    await f.devLogin(page, portal.url, other);
    await f.open(page, `${portal.url}/#/applications`);
    await page.waitForSelector('#no-results');
    assert.equal(await page.locator('#resume-banner').count(), 0);
    assert.deepEqual(await vaultIds(page, other), []);

    // B's own application: generating and discarding there leaves A's key alone.
    const mine = await paidApplication(page, other, { loggedIn: true });
    await f.generate(page, portal.url, mine);
    assert.deepEqual(await vaultIds(page, other), [mine]);
    await page.click('#discard-key');
    await page.click('#discard-confirm');
    await page.waitForSelector('#key-discarded');
    assert.deepEqual(await vaultIds(page, other), []);
    assert.deepEqual(await vaultIds(page), [serial], "A's key is still stored");

    // Back as A: the key is there to finish the download.
    await logout(page);
    await f.devLogin(page, portal.url);
    await f.open(page, `${portal.url}/#/applications`);
    await page.waitForSelector('#resume-banner');
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});
