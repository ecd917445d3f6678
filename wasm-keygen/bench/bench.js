// Timings for BENCHMARKS.md: RSA-2048 generation by this package (WebCrypto and pure-Rust
// paths), bare WebCrypto and node-forge, plus CSR and PFX. Each function returns the
// milliseconds of every run; the node script computes median and p90.

import * as kg from '/keygen/index.js';

const SUBJECT = { cn: 'SingleWindow-01-B00051', o: 'Bench Co', ou: 'B00051', c: 'TW', serialNumber: '12345675' };
const RSA = { kind: 'rsa', bits: 2048 };

// Smallest structure the PFX writer accepts as a certificate for `spki` (it checks the
// X.509 layout and the public key, not the CA signature), so every run can pack its own
// fresh key without a CA round trip. The packing work is the same as for a real certificate.
function tlv(tag, ...parts) {
  const body = parts.reduce((a, p) => a.concat(Array.from(p)), []);
  const n = body.length;
  const len = n < 128 ? [n] : n < 256 ? [0x81, n] : [0x82, n >> 8, n & 255];
  return [tag, ...len, ...body];
}
function fakeCertificate(spki) {
  const tbs = tlv(0x30, tlv(0xa0, [2, 1, 2]), [2, 1, 1], tlv(0x30), tlv(0x30), tlv(0x30), tlv(0x30), spki);
  return new Uint8Array(tlv(0x30, tbs, tlv(0x30), [3, 2, 0, 0]));
}

/** Times `n` runs after 2 unrecorded warm-up runs (JIT, worker and allocator warm-up). */
async function timeRuns(n, fn) {
  const times = [];
  if (n > 1) for (let i = 0; i < 2; i++) await fn(-1);
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn(i);
    times.push(performance.now() - t0);
  }
  return times;
}

/** Runs `fn` with navigator.hardwareConcurrency reporting `cores`. */
async function withCores(cores, fn) {
  Object.defineProperty(navigator, 'hardwareConcurrency', { value: cores, configurable: true });
  try {
    return await fn();
  } finally {
    delete navigator.hardwareConcurrency;
  }
}

const webCryptoParams = {
  name: 'RSASSA-PKCS1-v1_5',
  modulusLength: 2048,
  publicExponent: new Uint8Array([1, 0, 1]),
  hash: 'SHA-256',
};

/** One RSA-2048 key by each contender of the `keygenRounds` rows. */
const keygenContenders = {
  webcryptoGenerateOnly: () => crypto.subtle.generateKey(webCryptoParams, true, ['sign', 'verify']),
  webcryptoGenerateExport: async () => {
    const pair = await crypto.subtle.generateKey(webCryptoParams, true, ['sign', 'verify']);
    await crypto.subtle.exportKey('pkcs8', pair.privateKey);
  },
  moduleWebcrypto: () => kg.generateKey({ algorithm: RSA, backend: 'webcrypto' }),
  /**
   * What the applicant waits for: generateKey (auto) + signCsr (WebCrypto signs the request
   * with the key's CryptoKey) + buildPfx (compatible).
   */
  fullAuto: async () => {
    const key = await kg.generateKey({ algorithm: RSA });
    await kg.signCsr(key, SUBJECT);
    kg.buildPfx({ pkcs8: key.pkcs8, certificate: fakeCertificate(key.spki), password: 'abcd1234', friendlyName: SUBJECT.cn });
  },
  /** The same with the request signed in Rust (buildCsr), as before signCsr existed. */
  fullRustCsr: async () => {
    const key = await kg.generateKey({ algorithm: RSA });
    kg.buildCsr(key.pkcs8, SUBJECT);
    kg.buildPfx({ pkcs8: key.pkcs8, certificate: fakeCertificate(key.spki), password: 'abcd1234', friendlyName: SUBJECT.cn });
  },
  /** Pure Rust with navigator.hardwareConcurrency = 2: the two primes on two workers. */
  rustTwo: () => withCores(2, () => kg.generateKey({ algorithm: RSA, backend: 'rust' })),
  /** Pure Rust as with hardwareConcurrency = 1: the primes one after the other. */
  rustOne: () => withCores(1, () => kg.generateKey({ algorithm: RSA, backend: 'rust' })),
  forgePureJs: () => {
    window.forge.options.usePureJavaScript = true;
    return window.forge.pki.rsa.generateKeyPair({ bits: 2048, e: 0x10001 });
  },
};

export const cases = {
  /** wasm download + compile + instantiate (first call only). */
  async init() {
    const t0 = performance.now();
    await kg.init();
    return [performance.now() - t0];
  },
  /** First pure-Rust key: worker start + module instantiation in the worker + keygen. */
  async rustFirstKey() {
    return timeRuns(1, () => kg.generateKey({ algorithm: RSA, backend: 'rust' }));
  },
  /**
   * The RSA-2048 key generation rows, interleaved: every round runs each contender once, in
   * a shuffled order, so that drift and load from elsewhere on the machine hit
   * all of them alike (RSA key generation time is random and its spread is wide, so rows timed
   * one block after another can differ by more than the effect being measured). Returns
   * { name: [ms per round] }.
   */
  async keygenRounds(n) {
    const names = Object.keys(keygenContenders);
    const out = Object.fromEntries(names.map((name) => [name, []]));
    // A seeded shuffle per round rather than a rotation: with a rotation each contender would
    // nearly always follow the same neighbour (for example the garbage left by node-forge).
    let seed = 20261125;
    const rand = () => {
      seed ^= seed << 13; seed >>>= 0;
      seed ^= seed >>> 17;
      seed ^= seed << 5; seed >>>= 0;
      return seed / 4294967296;
    };
    for (let round = -2; round < n; round++) {
      const order = [...names];
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [order[i], order[j]] = [order[j], order[i]];
      }
      for (const name of order) {
        const t0 = performance.now();
        await keygenContenders[name]();
        const t = performance.now() - t0;
        if (round >= 0) out[name].push(t);
      }
    }
    return out;
  },
  /**
   * The baseline and the two-worker Rust path again, each timed in a block of its own (no
   * other contender in between), to show how much the interleaving moves their ratio.
   */
  blockBaseline: (n) => timeRuns(n, keygenContenders.webcryptoGenerateExport),
  blockRustTwo: (n) => timeRuns(n, keygenContenders.rustTwo),
  moduleRustP256: (n) => timeRuns(n, () => kg.generateKey({ algorithm: { kind: 'ec-p256' }, backend: 'rust' })),
  async csr(n) {
    const key = await kg.generateKey({ algorithm: RSA, backend: 'webcrypto' });
    return timeRuns(n, () => kg.buildCsr(key.pkcs8, SUBJECT));
  },
  /** signCsr with a WebCrypto key: csrInfo in Rust, crypto.subtle.sign, csrAssemble. */
  async csrWebCrypto(n) {
    const key = await kg.generateKey({ algorithm: RSA, backend: 'webcrypto' });
    return timeRuns(n, () => kg.signCsr(key, SUBJECT));
  },
  async csrP256(n) {
    const key = await kg.generateKey({ algorithm: { kind: 'ec-p256' }, backend: 'webcrypto' });
    return timeRuns(n, () => kg.buildCsr(key.pkcs8, SUBJECT));
  },
  async pfxCompatible(n) {
    const key = await kg.generateKey({ algorithm: RSA, backend: 'webcrypto' });
    const certificate = fakeCertificate(key.spki);
    return timeRuns(n, () =>
      kg.buildPfx({ pkcs8: key.pkcs8, certificate, password: 'abcd1234', friendlyName: SUBJECT.cn }),
    );
  },
  async pfxModern(n) {
    const key = await kg.generateKey({ algorithm: RSA, backend: 'webcrypto' });
    const certificate = fakeCertificate(key.spki);
    return timeRuns(n, () =>
      kg.buildPfx({ pkcs8: key.pkcs8, certificate, password: 'abcd1234', friendlyName: SUBJECT.cn, profile: 'modern' }),
    );
  },
};

function stats(times) {
  const s = [...times].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)];
  return { runs: s.length, median: q(0.5), p90: q(0.9) };
}

window.bench = {
  cases,
  /** Runs one case `n` times. */
  run: (name, n) => cases[name](n),
  /** Everything, for a manual run in the console. */
  async all(n = 10) {
    const out = {};
    for (const name of Object.keys(cases)) {
      const times = await cases[name](n);
      if (Array.isArray(times)) out[name] = stats(times);
      else for (const [key, t] of Object.entries(times)) out[key] = stats(t);
      document.getElementById('out').textContent = JSON.stringify(out, null, 2);
    }
    return out;
  },
};
window.benchReady = true;
