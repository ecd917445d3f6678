// Issue 17: what a first and a repeat visit cost. Against the real server and the real
// dist/ (cargo xtask web): every content-hashed file index.html names (and every file in
// the hashed directories it names) is served as its brotli or gzip copy by Accept-Encoding,
// with `Cache-Control: public, max-age=31536000, immutable` and `Vary: Accept-Encoding`,
// and the copy decompresses to the file itself; index.html is `no-cache`, API answers
// `no-store`. In Chromium, the login page loads without the keygen package (it is imported
// only by the pages that need it) and a repeat visit takes the hashed files from the cache.
//
// Timings and byte budgets are a benchmark, not this test: tests/first-visit.bench.js.
//
// Build first: cargo xtask web     Run: npm test --prefix app/tests/browser

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { request } from 'node:http';
import path from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { launchBrowser, newPage, waitForApp, requireApp } from '../lib/browser.js';
import * as f from '../lib/flows.js';
import { startPortal } from '../lib/portal.js';
import { DIST } from '../lib/shots.js';
import { recordNetwork } from '../lib/network.js';

const IMMUTABLE = 'public, max-age=31536000, immutable';
let portal;
let browser;

before(async () => {
  requireApp(['index.html']);
  portal = await startPortal();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await portal?.close();
});

/** GET without any decoding: status, headers and the bytes as sent. */
function rawGet(url, acceptEncoding) {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { 'accept-encoding': acceptEncoding } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Every file (not its .br/.gz) behind the `/assets/...` URLs of index.html. */
function hashedFiles(html) {
  const urls = new Set();
  for (const m of html.matchAll(/"(\/assets\/[^"]+)"/g)) {
    const url = m[1];
    const top = url.split('/').slice(0, 3).join('/'); // /assets/<name>-<hash>[.<ext>]
    const onDisk = path.join(DIST, top);
    if (statSync(onDisk).isDirectory()) {
      for (const f of walk(onDisk)) urls.add(`${top}/${path.relative(onDisk, f).split(path.sep).join('/')}`);
    } else {
      urls.add(url);
    }
  }
  return [...urls].sort();
}

function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return walk(p);
    return /\.(br|gz)$/.test(e.name) ? [] : [p];
  });
}

test('every hashed file is served compressed and immutable; the page and the API are not cached', async () => {
  const html = readFileSync(path.join(DIST, 'index.html'), 'utf8');
  const files = hashedFiles(html);
  // The stylesheet, boot script, nomodule fallback, the app (JS + wasm) and the keygen package.
  for (const re of [/^\/assets\/style-[0-9a-f]{16}\.css$/, /^\/assets\/boot-[0-9a-f]{16}\.js$/,
    /^\/assets\/app-[0-9a-f]{16}\/app_bg\.wasm$/, /^\/assets\/app-[0-9a-f]{16}\/app\.js$/,
    /^\/assets\/keygen-[0-9a-f]{16}\/wasm_keygen_bg\.wasm$/, /^\/assets\/keygen-[0-9a-f]{16}\/worker\.js$/]) {
    assert.ok(files.some((f) => re.test(f)), `${re} not among ${files.join(', ')}`);
  }
  for (const url of files) {
    const original = readFileSync(path.join(DIST, url));
    for (const [accept, encoding, decode] of [
      ['gzip, deflate, br, zstd', 'br', brotliDecompressSync],
      ['gzip, deflate', 'gzip', gunzipSync],
    ]) {
      const r = await rawGet(`${portal.url}${url}`, accept);
      assert.equal(r.status, 200, url);
      assert.equal(r.headers['content-encoding'], encoding, `${url} with ${accept}`);
      assert.equal(r.headers['cache-control'], IMMUTABLE, url);
      assert.match(r.headers.vary ?? '', /accept-encoding/i, url);
      assert.ok(r.body.length < original.length || original.length < 200, `${url}: ${encoding} ${r.body.length} >= ${original.length}`);
      assert.ok(decode(r.body).equals(original), `${url}: the ${encoding} copy is not the file`);
    }
  }
  const page = await rawGet(`${portal.url}/`, 'br');
  assert.equal(page.headers['cache-control'], 'no-cache');
  assert.equal(page.headers['content-encoding'], 'br');
  assert.equal(brotliDecompressSync(page.body).toString(), html);
  const api = await rawGet(`${portal.url}/api/session`, 'br');
  assert.equal(api.headers['cache-control'], 'no-store');
  const gone = await rawGet(`${portal.url}/assets/app-0000000000000000/app.js`, 'br');
  assert.equal(gone.status, 404, 'a missing hashed file must not be answered with the page');
});

test('the login page loads without the keygen package, and a repeat visit uses the cache', async () => {
  const context = await browser.newContext();
  const { page, problems } = await newPage(context);
  const net = await recordNetwork(context, page);
  await page.goto(`${portal.url}/#/login`);
  await waitForApp(page);
  await page.waitForSelector('#dev-login-submit');
  const first = net.take();
  const paths = first.map((x) => new URL(x.url).pathname);
  assert.ok(paths.some((u) => /^\/assets\/app-[0-9a-f]+\/app_bg\.wasm$/.test(u)), paths.join('\n'));
  assert.deepEqual(paths.filter((u) => u.includes('keygen')), [], 'the login page must not load the keygen package');
  // The pages after the login are chunks of their own (xtask split): none is fetched yet.
  assert.deepEqual(paths.filter((u) => u.endsWith('.wasm') && !u.endsWith('/app_bg.wasm')), [],
    'the login page must not load any page chunk');
  for (const x of first.filter((x) => new URL(x.url).pathname.startsWith('/assets/'))) {
    assert.ok(['br', 'gzip'].includes(x.encoding), `${x.url} sent as ${x.encoding}`);
  }

  // Repeat visit (a new navigation in the same browser): the page is revalidated, every
  // hashed file comes from the cache without a request to the server.
  await page.goto('about:blank');
  net.take();
  await page.goto(`${portal.url}/#/login`);
  await waitForApp(page);
  await page.waitForSelector('#dev-login-submit');
  const again = net.take().filter((x) => new URL(x.url).pathname.startsWith('/assets/'));
  assert.ok(again.length >= 3, JSON.stringify(again));
  for (const x of again) assert.ok(x.fromCache, `${x.url} was fetched again (${x.bytes} bytes)`);
  assert.deepEqual(problems, []);
  await context.close();
});

test('each page\'s code arrives when the page first opens; a chunk that cannot be fetched gets a retry button', async () => {
  const context = await browser.newContext({ locale: 'zh-TW' });
  const { page, problems } = await newPage(context);
  const net = await recordNetwork(context, page);
  const chunks = () => net.take().map((x) => ({ ...x, path: new URL(x.url).pathname }))
    .filter((x) => /^\/assets\/app-[0-9a-f]{16}\/.+\.wasm$/.test(x.path) && !x.path.endsWith('/app_bg.wasm'));
  await f.open(page, `${portal.url}/#/login`);
  assert.deepEqual(chunks(), [], 'the login page loads no page chunk');

  // The applicant pages' chunk does not arrive (a dropped line) when the login lands on the
  // applications page: the page says so in its language, and the retry button fetches it.
  const CHUNK = /\/split_pages_applicant\.wasm$/;
  await page.route(CHUNK, (route) => route.abort('internetdisconnected'));
  await page.fill('#f-tax-id', f.COMPANY.taxId);
  await page.fill('#f-display-name', 'Company');
  await page.click('#dev-login-submit');
  await page.waitForSelector('#page-load-failed');
  assert.match(await page.textContent('#page-load-failed'), /無法載入此頁面/);
  assert.equal(await page.locator('#query-submit').count(), 0);
  await page.unroute(CHUNK);
  net.take();
  await page.click('#page-load-failed button');
  await page.waitForSelector('#query-submit');
  assert.equal(await page.locator('#page-load-failed').count(), 0);
  const fetched = chunks();
  assert.ok(fetched.some((x) => CHUNK.test(x.path) && x.status === 200), JSON.stringify(fetched));
  for (const x of fetched) assert.ok(['br', 'gzip'].includes(x.encoding), `${x.url} sent as ${x.encoding}`);

  // Another page of the same chunk opens without fetching anything; the operator's chunk
  // was never fetched.
  await page.click('a[href="#/menu"]');
  await page.waitForSelector('#function-menu');
  assert.deepEqual(chunks(), []);
  // The aborted fetch is reported by the browser and the loader; nothing else may be.
  assert.deepEqual(problems.filter((p) => !/split_pages_applicant|Failed to fetch|ERR_INTERNET_DISCONNECTED/i.test(p)), []);
  await context.close();
});
