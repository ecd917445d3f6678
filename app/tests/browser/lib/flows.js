// Page steps shared by the tests: each drives the app like a user (labels, buttons) and
// returns what the next step needs.

import assert from 'node:assert/strict';
import { waitForApp } from './browser.js';

export const COMPANY = {
  taxId: '12345675',
  name: '台灣報關股份有限公司',
  phone: '02-25505500#1234',
  contactName: '陳小華',
  contactPhone: '02-25505500',
  mobile: '0912345678',
  email: 'chen@example.com.tw',
  box: 'B00051',
  staffCode: 'K1234',
  staffId: 'A123456789',
};

/** A valid new application as the API takes it (for tests that set up data without the form). */
export const API_FORM = {
  app_type: 'new',
  company: { name: COMPANY.name, phone: COMPANY.phone, fax: '', responsible_person: '王大明', responsible_phone: '' },
  contact: { name: COMPANY.contactName, phone: COMPANY.contactPhone, mobile: COMPANY.mobile, email: COMPANY.email },
  customs_office: 'keelung',
  business_type: 'broker',
  box_number: COMPANY.box,
  cert_kind: 'individual',
  staff_code: COMPANY.staffCode,
  staff_national_id: COMPANY.staffId,
  privacy_consent: true,
};

export async function open(page, url) {
  await page.goto(url);
  await waitForApp(page);
}

/** Development login as the applicant company. */
export async function devLogin(page, base, taxId = COMPANY.taxId) {
  await open(page, `${base}/#/login`);
  await page.fill('#f-tax-id', taxId);
  await page.fill('#f-display-name', `Company ${taxId}`);
  await page.click('#dev-login-submit');
  await page.waitForSelector('#query-submit');
}

export async function operatorLogin(page, base, { username, password }) {
  await open(page, `${base}/#/login`);
  await page.fill('#f-op-username', username);
  await page.fill('#f-op-password', password);
  await page.click('#op-login-submit');
  await page.waitForSelector('#admin-search');
}

/** Fills the new-application form with valid data (individual kind); `over` replaces ids. */
export async function fillApplication(page, over = {}) {
  const v = {
    'f-company-name': COMPANY.name,
    'f-company-phone': COMPANY.phone,
    'f-company-responsible-person': '王大明',
    'f-contact-name': COMPANY.contactName,
    'f-contact-phone': COMPANY.contactPhone,
    'f-contact-mobile': COMPANY.mobile,
    'f-contact-email': COMPANY.email,
    'f-box-number': COMPANY.box,
    'f-staff-code': COMPANY.staffCode,
    ...over,
  };
  // The manual's defaults are pre-selected; checking them again proves the radios exist.
  assert.equal(await page.isChecked('#f-app-type-new'), true);
  assert.equal(await page.isChecked('#f-customs-office-keelung'), true);
  assert.equal(await page.isChecked('#f-business-type-broker'), true);
  assert.equal(await page.isChecked('#f-cert-kind-individual'), true);
  await page.check('#f-customs-office-keelung');
  await page.check('#f-business-type-broker');
  await page.check('#f-cert-kind-individual');
  for (const [id, value] of Object.entries(v)) {
    if (id !== 'f-staff-national-id') await page.fill(`#${id}`, value);
  }
  await page.fill('#f-staff-national-id', over['f-staff-national-id'] ?? COMPANY.staffId);
  await page.check('#f-privacy-consent');
}

/** Submits a new application; returns { serial, billNo } from the bill page. */
export async function apply(page, base) {
  await open(page, `${base}/#/apply`);
  await fillApplication(page);
  await page.click('#apply-submit');
  await page.waitForSelector('#bill-no');
  const billNo = (await page.textContent('#bill-no')).trim();
  const serial = decodeURIComponent(new URL(page.url()).hash.split('/')[2]);
  assert.match(billNo, /^AAF\d{11}$/);
  assert.match(serial, /^SW\d{14}$/);
  return { serial, billNo };
}

/** The operator records the payment of `billNo` with the form at the top of the admin page. */
export async function recordPayment(page, base, billNo) {
  await open(page, `${base}/#/admin`);
  await page.fill('#f-pay-bill-no', billNo);
  await page.click('#pay-submit');
  await page.waitForSelector('#pay-form .success-box');
}

/** Generates the key for `serial` and waits for the download form. */
export async function generate(page, base, serial) {
  await open(page, `${base}/#/applications/${serial}/generate`);
  await page.click('#generate');
  await page.waitForSelector('#download-form', { timeout: 60_000 });
}

/**
 * Fills the download & backup form and saves both files; returns the Download objects,
 * keyed by extension.
 */
export async function downloadFiles(page, { name, password, profile = 'compatible' }) {
  await page.fill('#f-file-name', name);
  await page.fill('#f-password', password);
  await page.fill('#f-password-confirm', password);
  await page.check(`#f-profile-${profile}`);
  const files = {};
  const got = new Promise((resolve) => {
    page.on('download', function onDownload(d) {
      files[d.suggestedFilename().split('.').pop()] = d;
      if (files.cer && files.pfx) {
        page.off('download', onDownload);
        resolve();
      }
    });
  });
  await page.click('#download-submit');
  await got;
  await page.waitForSelector('#saved');
  return files;
}

/** A JSON API call with the page's session and CSRF token; returns { status, body }. */
export function api(page, method, p, body) {
  return page.evaluate(async ({ method, p, body }) => {
    const s = await (await fetch('/api/session', { credentials: 'same-origin' })).json();
    const r = await fetch(p, {
      method,
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': s.csrf_token },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: r.status, body: await r.json().catch(() => null) };
  }, { method, p, body });
}
