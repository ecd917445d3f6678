// The app's pages in real headless Chromium against the fake API (lib/fake-portal.js):
// inline validation with the shared rules, keyboard use, phone width, language switch,
// the unsupported-browser message, resume after a closed tab. No console errors anywhere.
//
// Build first: cargo xtask web     Run: npm test --prefix app/tests/browser

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startFakePortal, startFakeBridge, CSP } from '../lib/fake-portal.js';
import { launchBrowser, newPage, requireApp } from '../lib/browser.js';
import { DIST, shot } from '../lib/shots.js';
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

async function session(opts = {}) {
  const context = await browser.newContext({ acceptDownloads: true, locale: 'zh-TW', ...opts });
  const { page, problems } = await newPage(context);
  return { context, page, problems };
}

async function errorOf(page, id) {
  return (await page.textContent(`#${id}-error`)).trim();
}

/** An application paid by the fake's operator, ready to generate. */
async function paidApplication(page) {
  await f.devLogin(page, portal.url);
  const { serial, billNo } = await f.apply(page, portal.url);
  const a = portal.store.apps.find((x) => x.serial === serial);
  Object.assign(a.bill, { status: 'paid', paid_at: new Date().toISOString() });
  a.status = '20';
  return { serial, billNo };
}

test('the shell is served with the strict CSP and the app starts without errors', async () => {
  const { context, page, problems } = await session();
  const res = await page.goto(`${portal.url}/`);
  assert.equal(res.headers()['content-security-policy'], CSP);
  await page.waitForSelector('#dev-login-submit');
  assert.equal(await page.getAttribute('html', 'lang'), 'zh-TW');
  assert.equal(await page.textContent('h1'), '登入');
  // No inline style or script anywhere in the rendered page.
  assert.equal(await page.locator('[style]').count(), 0);
  assert.equal(await page.locator('script:not([src])').count(), 0);
  await shot(page, 'login');
  assert.deepEqual(problems, []);
  await context.close();
});

test('form validation shows the shared rule\'s message for each bad field', async () => {
  const { context, page, problems } = await session();
  // Bad tax ID checksum on the login form.
  await f.open(page, `${portal.url}/#/login`);
  await page.fill('#f-tax-id', '12345678');
  await page.click('#dev-login-submit');
  assert.equal(await errorOf(page, 'f-tax-id'), '檢查碼錯誤，請確認號碼');
  assert.equal(await page.getAttribute('#f-tax-id', 'aria-invalid'), 'true');
  // Focus moves to the first invalid field, for keyboard and screen-reader users.
  await page.waitForFunction(() => document.activeElement.id === 'f-tax-id');
  await page.fill('#f-tax-id', '1234567');
  assert.equal(await errorOf(page, 'f-tax-id'), '格式錯誤，8 位數字統一編號');
  await page.fill('#f-tax-id', '04595257');
  assert.equal(await errorOf(page, 'f-tax-id'), '');
  assert.equal(portal.requests.filter((r) => r.path === '/api/auth/dev-login').length, 0, 'refused forms are not sent');

  const { serial } = await paidApplication(page);
  // Bad national ID and mobile on the application form; nothing is sent while they are wrong.
  await f.open(page, `${portal.url}/#/apply`);
  await f.fillApplication(page, { 'f-staff-national-id': 'A123456788', 'f-contact-mobile': '0912-345678' });
  const before = portal.requests.filter((r) => r.path === '/api/applications' && r.method === 'POST').length;
  await page.click('#apply-submit');
  assert.equal(await errorOf(page, 'f-staff-national-id'), '檢查碼錯誤，請確認號碼');
  assert.equal(await errorOf(page, 'f-contact-mobile'), '格式錯誤，手機號碼 09xxxxxxxx');
  assert.equal(await errorOf(page, 'f-contact-email'), '');
  await page.fill('#f-staff-national-id', 'B1234');
  assert.equal(await errorOf(page, 'f-staff-national-id'), '格式錯誤，身分證字號或居留證號，例 A123456789');
  await page.uncheck('#f-privacy-consent');
  assert.equal(await errorOf(page, 'f-privacy-consent'), '請閱讀並同意個人資料蒐集聲明');
  // The same rules in English.
  await page.click('.lang-switch');
  assert.equal(await errorOf(page, 'f-contact-mobile'), 'Wrong format; Mobile number 09xxxxxxxx');
  await page.click('.lang-switch');
  await shot(page, 'apply-errors');
  assert.equal(portal.requests.filter((r) => r.path === '/api/applications' && r.method === 'POST').length, before);

  // Short password, mismatched confirmation, non-alphanumeric file name on the download form.
  await f.generate(page, portal.url, serial);
  await page.fill('#f-file-name', 'my cert!');
  await page.fill('#f-password', 'abc');
  await page.fill('#f-password-confirm', 'abd');
  await page.click('#download-submit');
  assert.equal(await errorOf(page, 'f-file-name'), '格式錯誤，僅限英文字母或數字');
  assert.equal(await errorOf(page, 'f-password'), '格式錯誤，4 至 20 個英文字母或數字');
  assert.equal(await errorOf(page, 'f-password-confirm'), '兩次輸入不一致');
  await page.fill('#f-password', 'abcd1234');
  await page.fill('#f-password-confirm', 'abcd1234');
  await page.fill('#f-file-name', 'MyCert01');
  assert.equal(await errorOf(page, 'f-password'), '');
  assert.equal(await errorOf(page, 'f-password-confirm'), '');
  assert.equal(await errorOf(page, 'f-file-name'), '');
  assert.deepEqual(problems, []);
  await context.close();
});

test('login and the application form work with the keyboard alone', async () => {
  const { context, page, problems } = await session();
  await f.open(page, `${portal.url}/#/login`);
  // Tab order from the top: skip link, language switch, then the login fields.
  const focused = () => page.evaluate(() => document.activeElement.id || document.activeElement.className);
  const order = [];
  for (let i = 0; i < 4; i++) {
    await page.keyboard.press('Tab');
    order.push(await focused());
  }
  assert.deepEqual(order, ['skip-link', 'lang-switch', 'f-pin', 'card-login-submit']);
  await page.keyboard.press('Tab');
  assert.equal(await focused(), 'f-tax-id');
  await page.keyboard.type('12345675');
  await page.keyboard.press('Tab');
  await page.keyboard.type('Keyboard Co');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#query-submit');

  // Every form control on the application page is reachable by Tab and has a label.
  await f.open(page, `${portal.url}/#/apply`);
  const unlabeled = await page.evaluate(() =>
    [...document.querySelectorAll('input, select, textarea')]
      .filter((el) => el.type !== 'hidden' && !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
      .map((el) => el.id || el.name));
  assert.deepEqual(unlabeled, []);
  const reached = new Set();
  for (let i = 0; i < 60; i++) {
    await page.keyboard.press('Tab');
    const id = await page.evaluate(() => document.activeElement.id);
    if (id) reached.add(id);
  }
  for (const id of ['f-app-type-new', 'f-company-name', 'f-contact-mobile', 'f-contact-email', 'f-customs-office-keelung',
    'f-business-type-broker', 'f-box-number', 'f-staff-code', 'f-privacy-consent', 'apply-submit']) {
    assert.ok(reached.has(id), `${id} is reachable with Tab`);
  }
  // Radios: one tab stop, arrows choose.
  await page.focus('#f-cert-kind-legal-person');
  await page.keyboard.press('ArrowDown');
  assert.equal(await page.isChecked('#f-cert-kind-individual'), true);
  await page.focus('#f-privacy-consent');
  await page.keyboard.press('Space');
  assert.equal(await page.isChecked('#f-privacy-consent'), true);
  assert.deepEqual(problems, []);
  await context.close();
});

test('main pages fit a 375px phone screen without horizontal scrolling', async () => {
  const { context, page, problems } = await session({ viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true });
  const noScroll = async (name) => {
    const [sw, cw] = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
    assert.ok(sw <= cw, `${name}: scrollWidth ${sw} > clientWidth ${cw}`);
    await shot(page, `phone-${name}`);
  };
  await f.open(page, `${portal.url}/#/login`);
  await noScroll('login');
  const { serial } = await paidApplication(page);
  await noScroll('bill');
  await f.open(page, `${portal.url}/#/applications`);
  await page.waitForSelector('#applications');
  await noScroll('applications');
  await f.open(page, `${portal.url}/#/apply`);
  await page.click('#apply-submit');
  await noScroll('apply');
  await f.generate(page, portal.url, serial);
  await noScroll('generate');
  assert.deepEqual(problems, []);
  await context.close();

  const op = await session({ viewport: { width: 375, height: 740 }, isMobile: true });
  await f.operatorLogin(op.page, portal.url, portal.operator);
  await op.page.waitForSelector('#admin-applications');
  const [sw, cw] = await op.page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
  assert.ok(sw <= cw, `admin: scrollWidth ${sw} > clientWidth ${cw}`);
  assert.deepEqual(op.problems, []);
  await op.context.close();
});

test('the language switch changes every label and is remembered', async () => {
  const { context, page, problems } = await session();
  await f.open(page, `${portal.url}/#/login`);
  await page.click('.lang-switch');
  assert.equal(await page.textContent('h1'), 'Log in');
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.equal((await page.textContent('label[for="f-tax-id"]')).replace('(required)', '').trim(), 'Business tax ID*');
  await page.reload();
  await page.waitForSelector('#dev-login-submit');
  assert.equal(await page.textContent('h1'), 'Log in');
  await page.click('.lang-switch');
  assert.equal(await page.textContent('h1'), '登入');
  assert.deepEqual(problems, []);
  await context.close();
});

test('a browser without a secure context is told why it cannot generate keys', async () => {
  // portal.test resolves to 127.0.0.1, but plain http on a non-local name is not a secure
  // context: WebCrypto's subtle API is missing, as on a misconfigured deployment.
  const insecure = await launchBrowser({ extraArgs: [`--host-resolver-rules=MAP portal.test 127.0.0.1`] });
  try {
    const context = await insecure.newContext({ locale: 'zh-TW' });
    const { page, problems } = await newPage(context);
    const port = new URL(portal.url).port;
    await page.goto(`http://portal.test:${port}/`);
    await page.waitForSelector('.unsupported');
    const text = await page.textContent('.unsupported');
    assert.match(text, /不是安全連線/);
    assert.match(text, /WebCrypto/);
    await shot(page, 'unsupported');
    assert.deepEqual(problems, []);
  } finally {
    await insecure.close();
  }
});

test('closing the tab after the certificate arrived: reopening finishes the download', async () => {
  const { context, page, problems } = await session();
  const { serial } = await paidApplication(page);
  await f.generate(page, portal.url, serial);
  await page.close();

  const again = await newPage(context);
  await f.open(again.page, `${portal.url}/#/applications`);
  await again.page.waitForSelector('#resume-banner');
  await again.page.click(`tr[data-serial="${serial}"] [data-action="resume"]`);
  await again.page.waitForSelector('#download-form');
  assert.ok(await again.page.isVisible('#resumed'));
  const files = await f.downloadFiles(again.page, { name: 'Resumed01', password: 'Resume1234', profile: 'modern' });
  assert.deepEqual(Object.keys(files).sort(), ['cer', 'pfx']);
  // The vault entry is gone once the files are saved: no more "finish download".
  await f.open(again.page, `${portal.url}/#/applications`);
  await again.page.waitForSelector('#applications');
  assert.equal(await again.page.locator('#resume-banner').count(), 0);
  assert.deepEqual([...problems, ...again.problems], []);
  await context.close();
});

test('IC-card login: the local component\'s popup signs the server\'s challenge', async () => {
  const card = portal.ca.issueCard('12345675');
  const bridge = await startFakeBridge({ portalOrigin: portal.url, card, pin: '246810' });
  try {
    const { context, page, problems } = await session();
    await f.open(page, `${portal.url}/#/login`);
    await page.evaluate((u) => localStorage.setItem('portal.cardBridge', u), bridge.url);
    // A wrong PIN: the component's own message is shown, no session.
    await page.fill('#f-pin', '135799');
    await page.click('#card-login-submit');
    await page.waitForSelector('#card-login-form .error-box');
    assert.match(await page.textContent('#card-login-form .error-box'), /PIN碼錯誤/);
    // A PIN with other characters than letters and digits never reaches the component.
    await page.fill('#f-pin', '12 ab!');
    await page.click('#card-login-submit');
    assert.equal(await errorOf(page, 'f-pin'), '格式錯誤');
    assert.equal(bridge.requests.length, 1);
    // The right PIN: logged in as the company on the card.
    await page.fill('#f-pin', '246810');
    await page.click('#card-login-submit');
    await page.waitForSelector('#query-submit');
    assert.equal(await page.inputValue('#f-tax-id'), '12345675');
    assert.equal(bridge.requests.length, 2);
    assert.equal(bridge.requests[1].signatureType, 'PKCS1');
    assert.match(bridge.requests[1].tbs, /^portal-login:/);
    // The PIN went to the local component only, never to the portal.
    assert.ok(!portal.requests.some((r) => r.body.includes('246810') || r.body.includes('135799')));
    assert.deepEqual(problems.filter((p) => !p.includes('status of 401')), []);
    await context.close();
  } finally {
    await bridge.close();
  }
});

test('a browser without WebAssembly gets the shell\'s message, not a blank page', async () => {
  const { context, page, problems } = await session();
  // As in a browser with WebAssembly disabled by policy: the global is missing.
  await page.addInitScript(() => {
    delete globalThis.WebAssembly;
  });
  await page.goto(`${portal.url}/`);
  await page.waitForSelector('#unsupported:not([hidden])');
  assert.match(await page.textContent('#unsupported'), /此瀏覽器無法使用本系統/);
  assert.match(await page.textContent('#unsupported-detail'), /WebAssembly/);
  assert.equal(await page.isVisible('#app'), false);
  assert.deepEqual(problems, []);
  await context.close();
});

test('field errors from the server show inline under their field until it changes', async () => {
  const { context, page, problems } = await session();
  await f.devLogin(page, portal.url);
  await f.open(page, `${portal.url}/#/apply`);
  await f.fillApplication(page, { 'f-contact-email': 'chen@refused.example' });
  await page.click('#apply-submit');
  await page.waitForSelector('main .error-box');
  assert.equal(await errorOf(page, 'f-contact-email'), '此申請類別不可使用此欄位');
  assert.match(await page.textContent('main .error-box'), /請修正標示的欄位/);
  await page.waitForFunction(() => document.activeElement.id === 'f-contact-email');
  await page.fill('#f-contact-email', 'chen@example.com.tw');
  assert.equal(await errorOf(page, 'f-contact-email'), '');
  await page.click('#apply-submit');
  await page.waitForSelector('#bill-no');
  assert.deepEqual(problems.filter((p) => !p.includes('status of 422')), []);
  await context.close();
});

test('every server error reads in the page\'s language, the server\'s English only as a folded detail', async () => {
  const { context, page, problems } = await session();
  await f.operatorLogin(page, portal.url, portal.operator);
  await page.waitForSelector('#pay-form');
  // The codes that used to show the server's English inside the Chinese page.
  const cases = [
    [422, 'bad_csr', '憑證請求（CSR）未通過檢查（簽章、演算法、金鑰長度或弱金鑰），請重新產製金鑰', 'RSA key size 1024 is not allowed'],
    [422, 'bad_certificate', '上傳的檔案不是本系統核發給貴公司的憑證', 'the certificate was not issued by this CA'],
    [422, 'payment_rejected', '繳費資料不符（查無繳款書、金額不符或繳款書已作廢），未入帳', 'wrong amount: the bill is for NT$2000'],
    [409, 'conflict', '與系統中已有的資料衝突（例如已核發或已註冊），請重新整理後確認', 'the certificate is already registered'],
    [500, 'internal', '系統發生錯誤，請稍後再試；如持續發生，請將錯誤代碼提供給客服', 'internal error (request id 0123abcd)'],
  ];
  for (const [status, code, zh, english] of cases) {
    portal.failNext('POST', '/api/admin/payments', status, code, english);
    await page.fill('#f-pay-bill-no', 'AAF11512000001');
    await page.click('#pay-submit');
    const box = `#pay-form .error-box[data-code="${code}"]`;
    await page.waitForSelector(box);
    assert.equal((await page.textContent(`${box} .error-message`)).trim(), zh, code);
    assert.equal(await page.isVisible(`${box} .error-detail code`), false, `${code}: the detail is folded`);
    assert.equal((await page.textContent(`${box} .error-detail code`)).trim(), english);
    assert.equal((await page.textContent(`${box} .error-detail summary`)).trim(), '技術細節');
  }
  await page.click('#pay-form .error-detail summary');
  assert.equal(await page.isVisible('#pay-form .error-detail code'), true);
  await shot(page, 'error-detail');
  // A refused bank file: each line's reason in Chinese.
  await f.open(page, `${portal.url}/#/admin/import`);
  await page.fill('#f-csv', 'bill_no,amount,paid_on\nAAF99999999999,2000,2026-12-01\n');
  await page.click('#import-submit');
  await page.waitForSelector('#import-errors');
  assert.equal((await page.textContent('#import-errors td[data-code="unknown_bill"]')).trim(), '查無此繳款書號碼');
  assert.doesNotMatch(await page.textContent('#import-report'), /no such bill/);
  // The same in English.
  await page.click('.lang-switch');
  assert.equal((await page.textContent('#import-errors td[data-code="unknown_bill"]')).trim(), 'No such bill number');
  await page.click('.lang-switch');
  assert.deepEqual(problems.filter((p) => !/status of (409|422|500)/.test(p)), []);
  await context.close();
});
