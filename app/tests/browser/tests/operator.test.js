// The operator's working day against the real server (lib/target.js): the grid of every
// application (full width, numbers never wrap, server-side pages, sorting, status tabs with
// counts, date filter, CSV export of the current filter) and the audit log in words with
// labelled details, in zh-TW and English. Both pages pass axe-core (WCAG 2.1 AA).
//
// Build first: cargo xtask web     Run: npm test --prefix app/tests/browser

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { launchBrowser, newPage, requireApp } from '../lib/browser.js';
import { startTarget } from '../lib/target.js';
import { shot } from '../lib/shots.js';
import { assertAccessible } from '../lib/axe.js';
import * as f from '../lib/flows.js';

const APPLICATIONS = 23;
const PAID = 4;

let portal;
let browser;

before(async () => {
  requireApp();
  portal = await startTarget();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await portal?.close();
});

/** Lines of the numbers' cells that wrapped (more than one line box), as "text" strings. */
function wrappedNumbers(page) {
  return page.$$eval('#admin-applications td.mono, #admin-applications td.num', (cells) => cells
    .filter((td) => td.textContent.trim() !== '')
    .filter((td) => {
      const r = document.createRange();
      r.selectNodeContents(td);
      const tops = new Set([...r.getClientRects()].map((x) => Math.round(x.top)));
      return tops.size > 1;
    })
    .map((td) => td.textContent.trim()));
}

async function rowSerials(page) {
  return page.$$eval('#admin-applications tbody tr', (rows) => rows.map((r) => r.dataset.serial));
}

async function pagerText(page) {
  return (await page.textContent('#admin-pager .range')).trim();
}

test('operator grid: full width, no wrapped numbers, pages, sorting, counts, filters, CSV', async () => {
  // Applications of two companies, a few of them paid.
  const bills = [];
  const problems = [];
  for (const [taxId, n] of [[f.COMPANY.taxId, 15], ['04595257', APPLICATIONS - 15]]) {
    const ctx = await browser.newContext({ locale: 'zh-TW' });
    const { page, problems: p } = await newPage(ctx);
    await f.devLogin(page, portal.url, taxId);
    for (let k = 0; k < n; k += 1) {
      const r = await f.api(page, 'POST', '/api/applications', f.API_FORM);
      assert.equal(r.status, 201, JSON.stringify(r.body));
      bills.push(r.body.bill);
    }
    problems.push(...p);
    await ctx.close();
  }
  const op = await browser.newContext({ acceptDownloads: true, locale: 'zh-TW', viewport: { width: 1600, height: 1000 } });
  const { page: ops, problems: opsProblems } = await newPage(op);
  await f.operatorLogin(ops, portal.url, portal.operator);
  for (const b of bills.slice(0, PAID)) {
    const r = await f.api(ops, 'POST', '/api/admin/payments', { bill_no: b.bill_no, amount: b.amount, paid_on: new Date().toISOString().slice(0, 10) });
    assert.equal(r.status, 200, JSON.stringify(r.body));
  }
  // The login landed on #/admin before the payments: load the grid afresh (goto to the same
  // URL with only a hash would keep the page and its first answer).
  await ops.goto('about:blank');
  await f.open(ops, `${portal.url}/#/admin`);
  await ops.waitForSelector('#admin-applications tbody tr');

  // Counts per status, before any status filter.
  const count = async (code) => Number((await ops.textContent(`#status-counts button[data-status="${code}"] .count`)).trim());
  assert.equal(await count(''), APPLICATIONS);
  assert.equal(await count('10'), APPLICATIONS - PAID);
  assert.equal(await count('20'), PAID);
  assert.equal(await count('A0'), 0);

  // Full width, and no number, serial or date broken over two lines.
  const table = await ops.locator('#admin-applications').boundingBox();
  assert.ok(table.width > 1600 * 0.9, `grid is ${table.width}px wide in a 1600px window`);
  assert.deepEqual(await wrappedNumbers(ops), []);

  // Pages of 10 from the server: 第 1 頁 共 3 頁.
  await ops.selectOption('#page-size', '10');
  await ops.waitForFunction(() => document.querySelectorAll('#admin-applications tbody tr').length === 10);
  assert.equal(await pagerText(ops), `第 1 頁 共 3 頁，1 - 10 共 ${APPLICATIONS} 筆`);
  const first = await rowSerials(ops);
  await ops.click('#page-next');
  await ops.waitForFunction(() => document.querySelector('#admin-pager .range').textContent.includes('第 2 頁'));
  const second = await rowSerials(ops);
  assert.equal(second.length, 10);
  assert.ok(second.every((s) => !first.includes(s)), 'page 2 repeats rows of page 1');
  assert.ok(first[0] > second[0], 'newest first');

  // Sorting by serial: ascending, then descending.
  await ops.click('button.sort[data-sort="serial"]');
  await ops.waitForFunction(() => document.querySelector('#admin-pager .range').textContent.includes('第 1 頁'));
  await ops.waitForSelector('th[aria-sort="ascending"] button[data-sort="serial"]');
  const asc = await rowSerials(ops);
  assert.deepEqual(asc, [...asc].sort());
  await ops.click('button.sort[data-sort="serial"]');
  await ops.waitForSelector('th[aria-sort="descending"] button[data-sort="serial"]');
  const desc = await rowSerials(ops);
  assert.deepEqual(desc, [...desc].sort().reverse());

  // The status tab filters; the counts stay those of every status.
  await ops.click('#status-counts button[data-status="20"]');
  await ops.waitForFunction((n) => document.querySelectorAll('#admin-applications tbody tr').length === n, PAID);
  assert.equal(await ops.getAttribute('#status-counts button[data-status="20"]', 'aria-pressed'), 'true');
  assert.equal(await count('10'), APPLICATIONS - PAID);
  assert.equal(await pagerText(ops), `第 1 頁 共 1 頁，1 - ${PAID} 共 ${PAID} 筆`);
  await assertAccessible(ops, 'operator grid');
  await shot(ops, 'operator-grid');

  // CSV export of the current filter (status 20, every page).
  const [download] = await Promise.all([ops.waitForEvent('download'), ops.click('#admin-export')]);
  const file = await download.path();
  const csv = readFileSync(file, 'utf8');
  // A BOM first, so that Excel reads UTF-8 (String.trim would drop it: test before).
  assert.ok(csv.startsWith('\uFEFF申請序號 Serial,'), csv.slice(0, 40));
  const lines = csv.trim().split('\r\n');
  assert.equal(lines.length, 1 + PAID, csv);
  assert.ok(lines.slice(1).every((l) => l.includes('20 完成繳費')), csv);

  // Date filter: tomorrow has nothing.
  await ops.click('#status-counts button[data-status=""]');
  const tomorrow = new Date(Date.now() + 8 * 3600e3 + 24 * 3600e3).toISOString().slice(0, 10);
  await ops.fill('#f-search-from', tomorrow);
  await ops.click('#admin-search');
  await ops.waitForSelector('#no-results');
  assert.equal(await count(''), 0);

  assert.deepEqual(problems, []);
  assert.deepEqual(opsProblems, []);
  await op.close();
});

test('audit log: actions in words, details as labelled fields, zh-TW and English', async () => {
  const applicant = await browser.newContext({ locale: 'zh-TW' });
  const { page: ap } = await newPage(applicant);
  await f.devLogin(ap, portal.url);
  const r = await f.api(ap, 'POST', '/api/applications', f.API_FORM);
  assert.equal(r.status, 201, JSON.stringify(r.body));
  await applicant.close();
  const { serial } = r.body;
  const billNo = r.body.bill.bill_no;
  const ctx = await browser.newContext({ locale: 'zh-TW', viewport: { width: 1600, height: 1000 } });
  const { page, problems } = await newPage(ctx);
  await f.operatorLogin(page, portal.url, portal.operator);
  await f.open(page, `${portal.url}/#/admin/audit`);
  await page.fill('#f-audit-application', serial);
  await page.click('#audit-search');
  // The page first lists every entry; wait for the answer to the search (this application's
  // entries only), not for the first list.
  await page.waitForFunction((s) => {
    const rows = [...document.querySelectorAll('#audit tbody tr')];
    return rows.length > 0 && rows.every((r) => r.textContent.includes(s))
      && rows.some((r) => r.dataset.action === 'application.submit');
  }, serial);
  const row = page.locator('#audit tbody tr[data-action="application.submit"]');
  const text = await row.textContent();
  assert.ok(text.includes('送出申請'), text);
  assert.ok(text.includes(`申請人 ${f.COMPANY.taxId}`), text);
  // Labelled fields, no JSON.
  const fields = await row.locator('dl.detail dt').allTextContents();
  assert.ok(fields.includes('規費單號') && fields.includes('申請類別') && fields.includes('狀態'), fields.join(','));
  assert.ok(text.includes(billNo) && text.includes('新申請') && text.includes('10 送出申請，待繳費'), text);
  assert.ok(!text.includes('{') && !text.includes('"'), text);
  await assertAccessible(page, 'audit log (zh-TW)');
  await shot(page, 'operator-audit');

  await page.click('button.lang-switch');
  await page.waitForFunction(() => document.documentElement.lang === 'en');
  const en = await row.textContent();
  assert.ok(en.includes('Application submitted'), en);
  assert.ok(en.includes('Applicant 12345675'), en);
  const enFields = await row.locator('dl.detail dt').allTextContents();
  assert.ok(enFields.includes('Bill no.') && enFields.includes('Type'), enFields.join(','));
  assert.ok(en.includes('Submitted, awaiting payment'), en);
  await assertAccessible(page, 'audit log (English)');
  await page.click('button.lang-switch');
  assert.deepEqual(problems, []);
  await ctx.close();
});

test('grid: a slow answer to an older click never replaces the newer one, and the headers say what the rows are', async () => {
  const applicant = await browser.newContext({ locale: 'zh-TW' });
  const { page: ap } = await newPage(applicant);
  await f.devLogin(ap, portal.url);
  for (let k = 0; k < 3; k += 1) {
    const r = await f.api(ap, 'POST', '/api/applications', f.API_FORM);
    assert.equal(r.status, 201, JSON.stringify(r.body));
  }
  await applicant.close();
  const ctx = await browser.newContext({ locale: 'zh-TW', viewport: { width: 1600, height: 1000 } });
  const { page, problems } = await newPage(ctx);
  await f.operatorLogin(page, portal.url, portal.operator);
  await page.waitForSelector('#admin-applications tbody tr');

  // The answer to the first click (serial ascending) is held back until the second click's
  // answer (serial descending) is on screen.
  let releaseAsc;
  const ascHeld = new Promise((resolve) => { releaseAsc = resolve; });
  let ascSeen;
  const ascAsked = new Promise((resolve) => { ascSeen = resolve; });
  await page.route(/\/api\/admin\/applications\?/, async (route) => {
    const url = new URL(route.request().url());
    if (url.searchParams.get('sort') === 'serial' && url.searchParams.get('dir') === 'asc') {
      ascSeen();
      await ascHeld;
    }
    await route.continue();
  });
  await page.click('button.sort[data-sort="serial"]');
  await ascAsked;
  // Until its answer arrives, the header does not claim an order the rows do not have.
  assert.equal(await page.locator('th[aria-sort="ascending"]').count(), 0);
  await page.click('button.sort[data-sort="serial"]');
  await page.waitForSelector('th[aria-sort="descending"] button[data-sort="serial"]');
  const desc = await rowSerials(page);
  assert.ok(desc.length >= 3, desc.join(','));
  assert.deepEqual(desc, [...desc].sort().reverse());

  // Now the stale ascending answer arrives: the grid keeps the descending rows.
  const staleAnswer = page.waitForResponse((r) => r.url().includes('dir=asc'));
  releaseAsc();
  await staleAnswer;
  // The app handles the answer in a later task; give it time to (wrongly) redraw.
  await page.waitForTimeout(500);
  assert.deepEqual(await rowSerials(page), desc);
  assert.equal(await page.locator('th[aria-sort="descending"] button[data-sort="serial"]').count(), 1);
  await page.unroute(/\/api\/admin\/applications\?/);

  // An answer that arrives after the operator left the grid is dropped without a trace (it
  // used to read the grid's disposed request counter: a panic that stops the app).
  let releaseLate;
  const lateHeld = new Promise((resolve) => { releaseLate = resolve; });
  let lateSeen;
  const lateAsked = new Promise((resolve) => { lateSeen = resolve; });
  await page.route(/\/api\/admin\/applications\?/, async (route) => {
    lateSeen();
    await lateHeld;
    await route.continue();
  });
  await page.click('#admin-search');
  await lateAsked;
  await page.click('a[href="#/admin/audit"]');
  await page.waitForSelector('#audit-search');
  const lateAnswer = page.waitForResponse((r) => r.url().includes('/api/admin/applications?'));
  releaseLate();
  await lateAnswer;
  await page.waitForTimeout(500);
  await page.click('a[href="#/admin"]');
  await page.waitForSelector('#admin-applications tbody tr');
  await page.unroute(/\/api\/admin\/applications\?/);
  assert.deepEqual(problems, []);
  await ctx.close();
});
