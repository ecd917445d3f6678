// First and repeat visit of the portal over throttled lines, in headless Chromium against
// the real server and dist/ (not a test; prints numbers for BENCHMARKS.md, issue 17).
//
//   cargo xtask web && (cd app/tests/browser && node bench/first-visit.bench.js [--runs 3])
//
// Per line (CDP Network.emulateNetworkConditions) and run, a fresh browser context opens
// `/#/login`:
//   * bytes: what crossed the wire (Network.loadingFinished encodedDataLength: headers +
//     compressed bodies) until the login form is shown;
//   * FCP: Chromium's first-contentful-paint (the shell's "載入中… Loading…" line);
//   * app: until the app has mounted and shows the login form (what a broker waits for);
//   * repeat: bytes of a second visit in the same context (new navigation, warm cache);
//   * login: then the development login, until the applications page is shown, and the
//     bytes it took (the applicant pages' wasm chunk and the API answers).
// Medians of the runs. Budgets (issue 17): first visit <= 350 KiB, app on fast 3G <= 2.0 s
// and on 20 Mbps <= 0.5 s, repeat visit <= 20 KiB.

import { launchBrowser } from '../lib/browser.js';
import { startPortal } from '../lib/portal.js';
import { recordNetwork, total } from '../lib/network.js';

const args = process.argv.slice(2);
const runsArg = args.indexOf('--runs');
const RUNS = runsArg >= 0 ? Number(args[runsArg + 1]) : 3;
const LINES = [
  { name: 'fast 3G (1.6 Mbps, 150 ms)', downloadKbps: 1600, uploadKbps: 750, latencyMs: 150 },
  { name: '20 Mbps, 20 ms', downloadKbps: 20000, uploadKbps: 20000, latencyMs: 20 },
];

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function visit(page, url) {
  await page.goto(url);
  await page.waitForSelector('#dev-login-submit');
  return page.evaluate(() => ({
    app: performance.now(),
    fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN,
  }));
}

const portal = await startPortal();
const browser = await launchBrowser();
const rows = [];
try {
  for (const line of LINES) {
    const runs = [];
    for (let i = 0; i < RUNS; i++) {
      const context = await browser.newContext();
      const page = await context.newPage();
      const net = await recordNetwork(context, page, { throttle: line });
      const t = await visit(page, `${portal.url}/#/login`);
      await page.waitForLoadState('networkidle');
      const first = net.take();
      await page.goto('about:blank');
      net.take();
      await visit(page, `${portal.url}/#/login`);
      await page.waitForLoadState('networkidle');
      const repeat = net.take();
      // Then the login: the applicant pages' chunk arrives now, not on the first visit.
      await page.fill('#f-tax-id', '12345675');
      await page.fill('#f-display-name', 'Bench');
      const t0 = await page.evaluate(() => performance.now());
      await page.click('#dev-login-submit');
      await page.waitForSelector('#query-submit');
      const login = (await page.evaluate(() => performance.now())) - t0;
      await page.waitForLoadState('networkidle');
      const afterLogin = net.take();
      runs.push({ ...t, bytes: total(first), requests: first.length, repeat: total(repeat), repeatRequests: repeat.filter((x) => !x.fromCache).length, login, loginBytes: total(afterLogin) });
      await context.close();
    }
    const m = (k) => median(runs.map((r) => r[k]));
    rows.push({ line: line.name, bytes: m('bytes'), requests: m('requests'), fcp: m('fcp'), app: m('app'), repeat: m('repeat'), repeatRequests: m('repeatRequests'), login: m('login'), loginBytes: m('loginBytes'), all: runs });
  }
} finally {
  await browser.close();
  await portal.close();
}

const kib = (b) => (b / 1024).toFixed(1);
console.log(`Chromium ${browser.version()}, ${RUNS} runs per line, medians`);
console.log('| line | first visit | requests | FCP (shell) | app shown | repeat visit | repeat requests to server | login to applications page | bytes after login |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(`| ${r.line} | ${kib(r.bytes)} KiB | ${r.requests} | ${(r.fcp / 1000).toFixed(2)} s | ${(r.app / 1000).toFixed(2)} s | ${kib(r.repeat)} KiB | ${r.repeatRequests} | ${(r.login / 1000).toFixed(2)} s | ${kib(r.loginBytes)} KiB |`);
}
console.log('\nruns (app shown, s):', rows.map((r) => `${r.line}: ${r.all.map((x) => (x.app / 1000).toFixed(2)).join(' ')}`).join('; '));
