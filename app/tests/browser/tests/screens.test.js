// The DC02 screens of the manual against the real server (lib/portal.js): the function menu
// and the breadcrumb, the query grid's columns and server-side paging, 檢視 with the
// certificate status and the history in words, 撤回, 繳納證號 and its printed receipt, the
// NS11 payment slip on one A4 page; axe-core (WCAG 2.1 AA, zero violations) on every
// applicant and operator page; and the applicant journey with the keyboard only.
//
// Build first: cargo xtask web     Run: npm test --prefix app/tests/browser

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, newPage, waitForApp, requireApp } from '../lib/browser.js';
import { startTarget } from '../lib/target.js';
import { shot, copyToDocs } from '../lib/shots.js';
import { assertAccessible } from '../lib/axe.js';
import * as f from '../lib/flows.js';

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

async function session() {
  const ctx = await browser.newContext({ acceptDownloads: true, locale: 'zh-TW', viewport: { width: 1280, height: 900 } });
  const { page, problems } = await newPage(ctx);
  return { ctx, page, problems };
}

/** Loads `url` as a new document: a hash-only change would keep the page and its old data. */
async function fresh(page, url) {
  await page.goto('about:blank');
  await f.open(page, url);
}

async function createApps(page, n) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const r = await f.api(page, 'POST', '/api/applications', f.API_FORM);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    out.push(r.body);
  }
  return out;
}

async function operator() {
  const s = await session();
  await f.operatorLogin(s.page, portal.url, portal.operator);
  return s;
}

async function pay(op, billNo) {
  const today = new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 10);
  const r = await f.api(op.page, 'POST', '/api/admin/payments', { bill_no: billNo, amount: 2000, paid_on: today });
  assert.equal(r.status, 200, JSON.stringify(r.body));
}

const text = async (page, sel) => (await page.textContent(sel)).replace(/\s+/g, ' ').trim();
/** The breadcrumb's items, one space apart (its list items have no text between them). */
const crumbs = (page) => page.$$eval('#breadcrumb li', (ls) => ls.map((l) => l.textContent.replace(/\s+/g, ' ').trim()).join(' '));

/** Pages of a PDF: its page objects (`/Type /Page`, not `/Pages`). */
function pdfPages(buf) {
  return (buf.toString('latin1').match(/\/Type\s*\/Page(?![s\w])/g) ?? []).length;
}

test('DC02 menu, breadcrumb and the query grid with server-side paging', { timeout: 180_000 }, async () => {
  const { ctx, page, problems } = await session();
  await f.devLogin(page, portal.url, '04595257');
  await fresh(page, `${portal.url}/#/menu`);
  assert.match(await text(page, '#function-menu'), /\(DC02\)通關專屬憑證申請/);
  assert.equal(await crumbs(page), '憑證通關服務 通關專屬憑證');
  await page.click('#menu-dc02');
  await page.waitForSelector('#no-results');
  assert.equal(await crumbs(page), '憑證通關服務 通關專屬憑證 (DC02)通關專屬憑證申請');

  const apps = await createApps(page, 12);
  await fresh(page, `${portal.url}/#/applications`);
  await page.waitForSelector('#applications');
  const heads = await page.$$eval('#applications thead th', (t) => t.map((x) => x.textContent.trim()));
  for (const h of ['公司名稱', '申請日期', '申請類別', '狀態', '憑證類型', '專責人員代碼', '金鑰', '憑證下載', '憑證異動', '規費單號', '繳納證號']) {
    assert.ok(heads.includes(h), `grid column ${h} (${heads.join(', ')})`);
  }
  assert.equal(await text(page, '#applications-pager-status'), '第 1 頁 共 2 頁，1 - 10 共 12 筆');
  assert.equal(await page.locator('#applications tbody tr').count(), 10);
  // Newest first; the date with its time, as the manual's 2018/11/19 10:39:29.
  const first = page.locator('#applications tbody tr').first();
  assert.equal(await first.getAttribute('data-serial'), apps[11].serial);
  assert.match(await first.locator('td').nth(2).textContent(), /^\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2}$/);
  assert.equal((await first.locator('td').nth(11).textContent()).trim(), apps[11].bill.bill_no);
  await shot(page, 'applications-paged');
  await page.click('#applications-pager-next');
  await page.waitForFunction(() => document.querySelector('#applications-pager-status')?.textContent.startsWith('第 2 頁'));
  assert.equal(await text(page, '#applications-pager-status'), '第 2 頁 共 2 頁，11 - 12 共 12 筆');
  assert.equal(await page.locator('#applications tbody tr').count(), 2);
  await page.selectOption('#applications-pager-size', '20');
  await page.waitForFunction(() => document.querySelector('#applications-pager-status')?.textContent.startsWith('第 1 頁 共 1 頁'));
  assert.equal(await text(page, '#applications-pager-status'), '第 1 頁 共 1 頁，1 - 12 共 12 筆');
  assert.equal(await page.locator('#applications tbody tr').count(), 12);
  assert.deepEqual(problems, []);
  await ctx.close();
  copyToDocs(['applications-paged']);
});

test('檢視, 繳納證號 with its receipt, 撤回, the slip on one A4 page, status right after issuing', { timeout: 240_000 }, async () => {
  const { ctx, page, problems } = await session();
  await f.devLogin(page, portal.url, '12345670');
  const [toWithdraw, toPay] = await createApps(page, 2);
  const op = await operator();
  await pay(op, toPay.bill.bill_no);

  // 繳納證號 in the grid, 列印 opens the receipt.
  await fresh(page, `${portal.url}/#/applications`);
  const row = `tr[data-serial="${toPay.serial}"]`;
  await page.waitForSelector(`${row} .receipt-no`);
  const receiptNo = (await page.textContent(`${row} .receipt-no`)).trim();
  assert.match(receiptNo, /^PAY\d{11}$/);
  await page.click(`${row} [data-action="print_receipt"]`);
  await page.waitForSelector('#receipt-no');
  assert.equal(await text(page, '#receipt-no'), receiptNo);
  assert.equal(await text(page, '#receipt-amount'), 'NT$2,000');
  assert.match(await crumbs(page), /繳納證明$/);
  await shot(page, 'receipt');

  // 撤回 from the grid: confirm, then the row shows A9 and the bill is void.
  await fresh(page, `${portal.url}/#/applications`);
  const wrow = `tr[data-serial="${toWithdraw.serial}"]`;
  await page.click(`${wrow} [data-action="withdraw"]`);
  await page.click(`${wrow} .confirm button.primary`);
  await page.waitForSelector(`${wrow} .status-a9`);
  const w = (await f.api(page, 'GET', `/api/applications/${toWithdraw.serial}`)).body;
  assert.equal(w.status, 'A9');
  assert.equal(w.bill.status, 'void');

  // The bill page and the slip: same words, same NT$2,000, the same virtual account.
  await fresh(page, `${portal.url}/#/applications/${toWithdraw.serial}/bill`);
  await fresh(page, `${portal.url}/#/applications/${toPay.serial}/bill`);
  await page.waitForSelector('#bill-account');
  assert.equal(await text(page, '#bill-amount'), 'NT$2,000');
  const account = await text(page, '#bill-account');
  assert.match(account, /^\d{16}$/);
  const slip = await ctx.newPage();
  await slip.goto(`${portal.url}/api/applications/${toPay.serial}/slip`);
  const slipText = (await slip.textContent('body')).replace(/\s+/g, ' ');
  for (const w of ['繳款人統編', '繳款人名稱', '通關專屬憑證費', 'NT$2,000（1件）', '匯發日期', '稅費單號碼', '繳費年月',
    '通匯解款行', '通匯解款行代號', '戶名', '帳號', '第一聯收據', '第三聯存根聯', 'ATM 轉帳', '臨櫃繳款', account, toPay.bill.bill_no]) {
    assert.ok(slipText.includes(w), `slip shows ${w}`);
  }
  await assertAccessible(slip, 'NS11 payment slip');
  await slip.emulateMedia({ media: 'print' });
  const pdf = await slip.pdf({ format: 'A4', printBackground: true, preferCSSPageSize: true });
  assert.equal(pdfPages(pdf), 1, 'the slip prints on one A4 page');
  await slip.emulateMedia({ media: 'screen' });
  await shot(slip, 'slip');
  await slip.close();

  // Generate: the page shows A0 as soon as the certificate is issued, without a reload.
  await fresh(page, `${portal.url}/#/applications/${toPay.serial}/generate`);
  assert.equal(await page.getAttribute('#app-status', 'data-status'), '20');
  await page.click('#generate');
  await page.waitForSelector('#download-form', { timeout: 60_000 });
  await page.waitForSelector('#app-status[data-status="A0"]', { timeout: 5_000 });
  assert.match(await text(page, '#app-status'), /A0/);

  // 檢視: every part, the certificate valid (有效), the history in words.
  await fresh(page, `${portal.url}/#/applications`);
  await page.click(`${row} [data-action="view"]`);
  await page.waitForSelector('#history li');
  assert.equal(await text(page, '#detail-serial'), toPay.serial);
  assert.equal(await text(page, '#detail-cert-status'), '有效');
  const history = await page.$$eval('#history li .what', (l) => l.map((x) => x.textContent.trim()));
  assert.deepEqual(history, ['送出申請', '完成繳費', '憑證已核發']);
  assert.match(await text(page, '#detail-bill'), new RegExp(receiptNo));
  assert.match(await crumbs(page), /檢視$/);
  await shot(page, 'detail');
  // The grid shows the certificate's status too.
  await fresh(page, `${portal.url}/#/applications`);
  assert.equal(await text(page, `${row} [data-cert-status]`), '有效');
  assert.deepEqual([...problems, ...op.problems], []);
  await ctx.close();
  await op.ctx.close();
  copyToDocs(['detail', 'slip', 'receipt']);
});

test('every page passes axe-core with zero WCAG 2.1 AA violations', { timeout: 240_000 }, async () => {
  const { ctx, page, problems } = await session();
  await fresh(page, `${portal.url}/#/login`);
  await assertAccessible(page, 'login');
  await f.devLogin(page, portal.url, '22099131');
  const op = await operator();
  const [unpaid, paid, issued] = await createApps(page, 3);
  await pay(op, paid.bill.bill_no);
  await pay(op, issued.bill.bill_no);
  await f.generate(page, portal.url, issued.serial);
  const pages = [
    ['menu', '#/menu', '#function-menu'],
    ['applications', '#/applications', '#applications'],
    ['apply', '#/apply', '#apply-form'],
    ['bill', `#/applications/${unpaid.serial}/bill`, '#bill-no'],
    ['detail', `#/applications/${issued.serial}`, '#history li'],
    ['receipt', `#/applications/${paid.serial}/receipt`, '#receipt-no'],
    ['generate', `#/applications/${paid.serial}/generate`, '#generate'],
    ['register', `#/applications/${issued.serial}/register`, 'form'],
    ['modify', `#/apply/modify/${issued.serial}`, '#apply-form'],
  ];
  for (const [name, hash, ready] of pages) {
    await fresh(page, `${portal.url}/${hash}`);
    await page.waitForSelector(ready);
    assert.ok(await page.$('#breadcrumb'), `${name} has the breadcrumb`);
    await assertAccessible(page, name);
  }
  // The form's error state too (invalid fields, messages).
  await fresh(page, `${portal.url}/#/apply`);
  await page.click('#apply-submit');
  await page.waitForSelector('.field.invalid');
  await assertAccessible(page, 'apply with errors');
  // English.
  await page.click('.lang-switch');
  await fresh(page, `${portal.url}/#/applications`);
  await page.waitForSelector('#applications');
  await assertAccessible(page, 'applications (English)');
  await page.click('.lang-switch');
  // Operator pages.
  for (const [name, hash, ready] of [
    ['operator applications', '#/admin', '#admin-applications'],
    ['operator import', '#/admin/import', 'form'],
    ['operator audit', '#/admin/audit', 'table, #audit'],
  ]) {
    await fresh(op.page, `${portal.url}/${hash}`);
    await op.page.waitForSelector(ready);
    await assertAccessible(op.page, name);
  }
  assert.deepEqual([...problems, ...op.problems], []);
  await ctx.close();
  await op.ctx.close();
});

/** Presses Tab until the focused element matches `selector` (fails after `max` presses). */
async function tabTo(page, selector, max = 120) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return;
  }
  throw new Error(`${selector} not reached with Tab`);
}

test('the applicant journey with the keyboard only (Tab, Enter, Space, typing)', { timeout: 180_000 }, async () => {
  const { ctx, page, problems } = await session();
  await page.goto(`${portal.url}/#/login`);
  await waitForApp(page);
  await tabTo(page, '#f-tax-id');
  await page.keyboard.type('04595257');
  await tabTo(page, '#f-display-name');
  await page.keyboard.type('鍵盤報關行');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#query-submit');
  // The query grid → 新申請.
  await tabTo(page, '#new-application');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#apply-form');
  // Text fields are typed; radios keep the manual's defaults except the office, chosen with
  // the arrow keys (one tab stop per radio group). In the order Tab reaches them.
  const type = async (pairs) => {
    for (const [sel, value] of pairs) {
      await tabTo(page, sel);
      await page.keyboard.type(value);
    }
  };
  await type([
    ['#f-company-name', f.COMPANY.name],
    ['#f-contact-name', f.COMPANY.contactName],
    ['#f-contact-phone', f.COMPANY.contactPhone],
    ['#f-contact-mobile', f.COMPANY.mobile],
    ['#f-contact-email', f.COMPANY.email],
  ]);
  await tabTo(page, '#f-customs-office-keelung');
  await page.keyboard.press('ArrowRight');
  assert.equal(await page.isChecked('#f-customs-office-taipei'), true);
  await type([
    ['#f-box-number', f.COMPANY.box],
    ['#f-staff-code', f.COMPANY.staffCode],
    ['#f-staff-national-id', f.COMPANY.staffId],
  ]);
  await tabTo(page, '#f-privacy-consent');
  await page.keyboard.press('Space');
  await tabTo(page, '#apply-submit');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#bill-no');
  const billNo = await text(page, '#bill-no');
  assert.equal(await text(page, '.flash'), `申請成功，規費繳款書號碼：${billNo}，請列印規費繳款書進行繳費`);
  const serial = decodeURIComponent(new URL(page.url()).hash.split('/')[2]);
  const app = (await f.api(page, 'GET', `/api/applications/${serial}`)).body;
  assert.equal(app.customs_office, 'taipei');
  assert.equal(app.business_type, 'broker');
  assert.equal(app.cert_kind, 'individual');
  // Back to the grid through the breadcrumb, then withdraw with the keyboard.
  await tabTo(page, '#breadcrumb a[href="#/applications"]');
  await page.keyboard.press('Enter');
  await page.waitForSelector(`tr[data-serial="${serial}"]`);
  await tabTo(page, `tr[data-serial="${serial}"] [data-action="withdraw"]`);
  await page.keyboard.press('Enter');
  // The confirmation takes the focus; Enter confirms.
  await page.waitForFunction(() => document.activeElement?.closest('.confirm') !== null);
  await page.keyboard.press('Enter');
  await page.waitForSelector(`tr[data-serial="${serial}"] .status-a9`);
  assert.deepEqual(problems, []);
  await ctx.close();
});
