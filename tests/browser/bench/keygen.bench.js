// Key generation benchmark in one headless Chromium run (not a test; prints numbers).
//
//   cargo xtask keygen --bench && (cd tests/browser && node bench/keygen.bench.js [--runs 100] [--write])
//
// --write replaces the "Key generation in the browser" section of BENCHMARKS.md.

import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import os from 'node:os';
import path from 'node:path';
import { launchBrowser, startServer, openPage, requireBuilt, ROOT, DIST } from '../lib/harness.js';

const args = process.argv.slice(2);
const runsArg = args.indexOf('--runs');
const RUNS = runsArg >= 0 ? Number(args[runsArg + 1]) : 100;
const WRITE = args.includes('--write');
const COMMAND = 'cargo xtask keygen --bench && (cd tests/browser && node bench/keygen.bench.js --runs 100 --write)';

requireBuilt('bench/index.html', 'cargo xtask keygen --bench');
const wasmPath = requireBuilt('keygen/wasm_keygen_bg.wasm', 'cargo xtask keygen --bench');

function stats(times) {
  const s = [...times].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)];
  return { runs: s.length, median: q(0.5), p90: q(0.9) };
}

const server = await startServer({ '/': DIST });
const browser = await launchBrowser();
const results = {};
const samples = {};
let chromiumVersion;
let hardwareConcurrency;
try {
  chromiumVersion = browser.version();
  const context = await browser.newContext();
  const { page, problems } = await openPage(context, `${server.url}/bench/`);
  await page.waitForFunction(() => window.benchReady === true);
  hardwareConcurrency = await page.evaluate(() => navigator.hardwareConcurrency);
  const plan = [
    ['init', 1],
    ['rustFirstKey', 1],
    ['keygenRounds', RUNS],
    ['blockBaseline', RUNS],
    ['blockRustTwo', RUNS],
    ['moduleRustP256', RUNS],
    ['csr', RUNS],
    ['csrWebCrypto', RUNS],
    ['csrP256', RUNS],
    ['pfxCompatible', RUNS],
    ['pfxModern', RUNS],
  ];
  for (const [name, n] of plan) {
    const times = await page.evaluate(([name, n]) => window.bench.run(name, n), [name, n]);
    // keygenRounds gives one series per contender (interleaved runs).
    const series = Array.isArray(times) ? { [name]: times } : times;
    for (const [key, t] of Object.entries(series)) {
      results[key] = stats(t);
      samples[key] = t;
      console.error(`${key.padEnd(24)} median ${results[key].median.toFixed(1)} ms  p90 ${results[key].p90.toFixed(1)} ms  (${n} runs)`);
    }
  }
  if (problems.length) throw new Error(`page problems: ${problems.join('; ')}`);
  const violations = await page.evaluate(() => window.cspViolations ?? []);
  if (violations.length) throw new Error(`CSP violations: ${violations.join('; ')}`);
} finally {
  await browser.close();
  await server.close();
}

const wasm = readFileSync(wasmPath);
const sizes = { raw: wasm.length, gzip: gzipSync(wasm, { level: 9 }).length };
const pkgFiles = ['wasm_keygen.js', 'index.js', 'worker.js', 'vault.js'];
const jsGzip = pkgFiles.reduce((a, f) => a + gzipSync(readFileSync(path.join(DIST, 'keygen', f)), { level: 9 }).length, 0);

const ms = (v) => `${v.toFixed(1)}`;
const row = (label, r) => `| ${label} | ${r.runs} | ${ms(r.median)} | ${ms(r.p90)} |`;
const ratio = (a, b) => (results[a].median / results[b].median).toFixed(2);
const target = (ok) => (ok ? 'met' : '**missed**');
const fullVsWebcrypto = results.fullAuto.median / results.webcryptoGenerateExport.median;
const fullVsGenerateOnly = results.fullAuto.median / results.webcryptoGenerateOnly.median;
const rustVsWebcrypto = results.rustTwo.median / results.webcryptoGenerateExport.median;
const forgeVsRust = results.forgePureJs.median / results.rustTwo.median;

// 95% interval of a ratio of medians by bootstrap (resampling each series with replacement,
// seeded so that a re-run over the same samples prints the same interval): key generation
// time is random, and the interval says how far the median ratio could move in another run.
function seededRandom(seed) {
  let x = seed >>> 0;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x / 4294967296;
  };
}
function median(values) {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.ceil(0.5 * s.length) - 1];
}
function ratioInterval(a, b, rounds = 2000) {
  const rand = seededRandom(20261125);
  const resample = (xs) => xs.map(() => xs[Math.floor(rand() * xs.length)]);
  const ratios = [];
  for (let i = 0; i < rounds; i++) ratios.push(median(resample(samples[a])) / median(resample(samples[b])));
  ratios.sort((x, y) => x - y);
  return `${ratios[Math.floor(0.025 * rounds)].toFixed(2)}–${ratios[Math.floor(0.975 * rounds)].toFixed(2)}`;
}
const cpu = os.cpus()[0]?.model ?? 'unknown CPU';

const section = `## Key generation in the browser

Reproduce (from the repository root):

\`\`\`
${COMMAND}
\`\`\`

Headless Chromium ${chromiumVersion} (Debian \`/usr/bin/chromium\`), ${os.cpus().length} cores (${cpu}),
one browser run, ${RUNS} runs per row after 2 warm-up runs, times in ms (\`performance.now()\`, so 0.1 ms resolution).
RSA key generation time is random (prime search), so the spread is wide: look at median and
p90, and at the 95% bootstrap intervals of the ratios below. The key generation rows are
interleaved: each of ${RUNS} rounds makes one key with every contender, in an order shuffled
round by round (seeded), so that drift and other load on the machine hit all rows alike.
With \`navigator.hardwareConcurrency\` ≥ 2 (here ${hardwareConcurrency}) the Rust path searches primes in two
workers and keeps the first two found (one worker / two workers: ${ratio('rustOne', 'rustTwo')}×).

| RSA-2048 key generation | runs | median | p90 |
|---|---|---|---|
${row('WebCrypto `generateKey` alone', results.webcryptoGenerateOnly)}
${row('WebCrypto `generateKey` + `exportKey(pkcs8)` (baseline)', results.webcryptoGenerateExport)}
${row('this module, `backend: webcrypto` (generate + export pkcs8 + spki)', results.moduleWebcrypto)}
${row('this module, `backend: rust` (wasm, two workers, warm)', results.rustTwo)}
${row('this module, `backend: rust`, one worker (`hardwareConcurrency` = 1)', results.rustOne)}
${row('node-forge 1.4.3 pure JS (`usePureJavaScript = true`, main thread)', results.forgePureJs)}

The same baseline and two-worker Rust rows timed again in blocks of their own (${RUNS} runs
each, nothing else in between), after the interleaved rounds:

| RSA-2048 key generation, in blocks | runs | median | p90 |
|---|---|---|---|
${row('WebCrypto `generateKey` + `exportKey(pkcs8)` (baseline)', results.blockBaseline)}
${row('this module, `backend: rust` (wasm, two workers, warm)', results.blockRustTwo)}

In blocks, pure Rust / baseline = ${ratio('blockRustTwo', 'blockBaseline')}× (95% interval ${ratioInterval('blockRustTwo', 'blockBaseline')}).

| other steps | runs | median | p90 |
|---|---|---|---|
${row('`init()`: fetch + compile + instantiate the wasm (first call)', results.init)}
${row('first `backend: rust` key (worker start + instantiate + keygen)', results.rustFirstKey)}
${row('P-256 key, `backend: rust`', results.moduleRustP256)}
${row('`buildCsr`, RSA-2048 (SHA-256, PKCS#1 v1.5, signed in Rust)', results.csr)}
${row('`signCsr`, RSA-2048 WebCrypto key (signed by `crypto.subtle.sign`)', results.csrWebCrypto)}
${row('`buildCsr`, P-256 (ECDSA)', results.csrP256)}
${row('`buildPfx` compatible (3DES, HMAC-SHA1, 2048 iterations)', results.pfxCompatible)}
${row('`buildPfx` modern (AES-256, PBKDF2/HMAC-SHA256, 10000 iterations)', results.pfxModern)}
${row('**full**: `generateKey` (auto) + `signCsr` + `buildPfx` (interleaved rounds)', results.fullAuto)}
${row('full with the CSR signed in Rust: `generateKey` (auto) + `buildCsr` + `buildPfx` (interleaved rounds)', results.fullRustCsr)}

The PFX rows pack a minimal certificate structure around the key's public key (the packer
checks layout and key, not the CA signature), so each run can use a fresh key.

| size of \`dist/keygen\` | bytes |
|---|---|
| \`wasm_keygen_bg.wasm\` raw | ${sizes.raw} |
| \`wasm_keygen_bg.wasm\` gzip -9 | ${sizes.gzip} |
| JS (\`wasm_keygen.js\`, \`index.js\`, \`worker.js\`, \`vault.js\`) gzip -9 | ${jsGzip} |

| target | result | 95% interval | |
|---|---|---|---|
| full keygen+CSR+PFX median ≤ 1.15× a bare WebCrypto \`generateKey\` | ${fullVsGenerateOnly.toFixed(2)}× | ${ratioInterval('fullAuto', 'webcryptoGenerateOnly')} | ${target(fullVsGenerateOnly <= 1.15)} |
| full keygen+CSR+PFX median ≤ 1.5× WebCrypto generate + export | ${fullVsWebcrypto.toFixed(2)}× | ${ratioInterval('fullAuto', 'webcryptoGenerateExport')} | ${target(fullVsWebcrypto <= 1.5)} |
| pure-Rust keygen ≤ 3× WebCrypto | ${rustVsWebcrypto.toFixed(2)}× | ${ratioInterval('rustTwo', 'webcryptoGenerateExport')} | ${target(rustVsWebcrypto <= 3)} |
| pure-Rust keygen ≥ 4× faster than node-forge | ${forgeVsRust.toFixed(2)}× | ${ratioInterval('forgePureJs', 'rustTwo')} | ${target(forgeVsRust >= 4)} |
| wasm ≤ 210 KiB gzip | ${(sizes.gzip / 1024).toFixed(1)} KiB | | ${target(sizes.gzip <= 210 * 1024)} |

Ratios are against the baseline row (generate + export: a key must be exported to be used).
Against \`generateKey\` alone: full ${ratio('fullAuto', 'webcryptoGenerateOnly')}× (95% interval ${ratioInterval('fullAuto', 'webcryptoGenerateOnly')}), full with the CSR signed in Rust ${ratio('fullRustCsr', 'webcryptoGenerateOnly')}× (${ratioInterval('fullRustCsr', 'webcryptoGenerateOnly')}), pure Rust ${ratio('rustTwo', 'webcryptoGenerateOnly')}×.
This module's WebCrypto path / baseline: ${ratio('moduleWebcrypto', 'webcryptoGenerateExport')}×.
`;

console.log(section);

if (WRITE) {
  const file = path.join(ROOT, 'BENCHMARKS.md');
  let text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const start = '<!-- keygen-bench:start -->';
  const end = '<!-- keygen-bench:end -->';
  const block = `${start}\n${section}${end}`;
  if (text.includes(start) && text.includes(end)) {
    text = text.slice(0, text.indexOf(start)) + block + text.slice(text.indexOf(end) + end.length);
  } else {
    text = `${text.trimEnd()}\n\n${block}\n`;
  }
  writeFileSync(file, text);
  console.error(`wrote ${file}`);
}
