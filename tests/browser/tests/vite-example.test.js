// Reuse by other portals: the keygen package as an npm tarball (`npm pack` of dist/keygen),
// installed into a fresh project (vite-example/, its package.json and lock committed),
// bundled by Vite, served on 127.0.0.1 with the portal's strict CSP and driven in Chromium:
// the page generates a key, sends the CSR to a CA and packs the .pfx, which openssl opens.
//
// Build first: cargo xtask keygen   Run: (cd tests/browser && npm test)
// Needs npm and the npm registry (or its cache: scripts/setup.sh runs `npm ci` in
// vite-example/ once, so that the copy here installs with --prefer-offline).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchBrowser, startServer, openPage, requireBuilt, DIST, CSP, b64 } from '../lib/harness.js';
import { TestCa } from '../lib/pki.js';

const EXAMPLE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../vite-example');
const PASSWORD = 'Secret123';

let work;
let ca;

before(() => {
  requireBuilt('keygen/package.json', 'cargo xtask keygen');
  work = mkdtempSync(path.join(tmpdir(), 'keygen-vite-'));
  ca = new TestCa();
});

after(() => {
  ca?.cleanup();
  if (work) rmSync(work, { recursive: true, force: true });
});

function npm(args, cwd) {
  return execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, encoding: 'utf8' });
}

test('npm pack of the keygen package installs into a Vite project whose page makes a key, a CSR and a PFX', async () => {
  // 1. The tarball, as `npm publish` would upload it.
  const [packed] = JSON.parse(npm(['pack', '--json', '--pack-destination', work], path.join(DIST, 'keygen')));
  const tarball = path.join(work, packed.filename);
  const files = packed.files.map((f) => f.path).sort();
  for (const f of ['index.js', 'index.d.ts', 'worker.js', 'vault.js', 'wasm_keygen.js', 'wasm_keygen_bg.wasm', 'README.md', 'package.json']) {
    assert.ok(files.includes(f), `${f} missing from the tarball: ${files.join(', ')}`);
  }

  // 2. A fresh project: the example's files (not its node_modules), Vite from the lock,
  //    the package from the tarball.
  const app = path.join(work, 'app');
  cpSync(EXAMPLE, app, { recursive: true, filter: (src) => !src.includes(`${path.sep}node_modules`) && !src.endsWith(`${path.sep}dist`) });
  npm(['ci', '--prefer-offline'], app);
  npm(['install', '--no-save', '--prefer-offline', tarball], app);
  execFileSync(path.join(app, 'node_modules/.bin/vite'), ['build', '--logLevel', 'warn'], { cwd: app, encoding: 'utf8' });

  // 3. What Vite made of it: the worker and the wasm are separate files it found through
  //    `new URL('./x', import.meta.url)` and copied, with content hashes.
  const assets = readdirSync(path.join(app, 'dist/assets'));
  assert.ok(assets.some((f) => /^wasm_keygen_bg-[\w-]+\.wasm$/.test(f)), assets.join(', '));
  assert.ok(assets.some((f) => /^worker-[\w-]+\.js$/.test(f)), assets.join(', '));
  const html = readFileSync(path.join(app, 'dist/index.html'), 'utf8');
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script for the strict CSP');

  // 4. Served like any static site, with a CA answering the CSR.
  const csrs = [];
  const server = await startServer(
    { '/': path.join(app, 'dist') },
    {
      routes: {
        'POST /api/csr': (body) => {
          const csrPem = body.toString('utf8');
          const certificatePem = ca.issue(csrPem);
          csrs.push({ csrPem, certificatePem });
          return { body: JSON.stringify({ certificate_pem: certificatePem, chain_pem: ca.chainPem }) };
        },
      },
    },
  );
  const browser = await launchBrowser('chromium');
  try {
    const ctx = await browser.newContext();
    const { page, problems, response } = await openPage(ctx, `${server.url}/`);
    assert.equal(response.headers()['content-security-policy'], CSP);
    await page.click('#go');
    await page.waitForFunction(() => window.result !== undefined, undefined, { timeout: 60_000 });
    const result = await page.evaluate(() => window.result);
    assert.equal(result.error, undefined, result.error);
    assert.equal(result.backend, 'webcrypto');
    assert.equal(csrs.length, 1);
    assert.equal(csrs[0].csrPem, result.csr);
    assert.match(ca.verifyCsr(result.csr), /verify OK/);
    const opened = ca.inspectPfx(b64.toBytes(result.pfx), PASSWORD, csrs[0].certificatePem);
    assert.ok(opened.ok, opened.info);
    assert.ok(opened.keyMatches, 'the key in the PFX is the certificate key');
    assert.ok(opened.info.includes('MAC: sha1, Iteration 2048'), opened.info);
    assert.equal(opened.pem.split('-----BEGIN CERTIFICATE-----').length - 1, 3, 'leaf + 2 CA certificates');
    assert.match(opened.pem, /friendlyName: SingleWindow-01-B00051/);

    // The Rust/Wasm path: the worker Vite bundled starts and gets the compiled module.
    await page.evaluate(() => {
      window.result = undefined;
    });
    await page.click('#go-rust');
    await page.waitForFunction(() => window.result !== undefined, undefined, { timeout: 60_000 });
    const rust = await page.evaluate(() => window.result);
    assert.equal(rust.error, undefined, rust.error);
    assert.equal(rust.backend, 'rust');
    assert.match(ca.verifyCsr(rust.csr), /verify OK/);
    const fromRust = ca.inspectPfx(b64.toBytes(rust.pfx), PASSWORD, csrs[1].certificatePem);
    assert.ok(fromRust.ok && fromRust.keyMatches, fromRust.info);
    const workerScripts = server.requests.filter((r) => /\/assets\/worker-[\w-]+\.js$/.test(r.path));
    // One or two workers (two search the primes in parallel on 2+ cores).
    assert.ok(workerScripts.length >= 1, server.requests.map((r) => r.path).join(', '));

    // The private key never went to the server: only the CSRs were posted.
    const posted = server.requests.filter((r) => r.method !== 'GET');
    assert.deepEqual(posted.map((r) => r.path), ['/api/csr', '/api/csr']);
    assert.deepEqual(problems, []);
    await ctx.close();
  } finally {
    await browser.close();
    await server.close();
  }
});
