// @customs-portal/keygen: key pair, PKCS#10 CSR and PKCS#12 (.pfx) in the browser.
// The private key never leaves the page. See README.md and index.d.ts.

import initWasm, * as wasm from './wasm_keygen.js';

export { KeyVault, DEFAULT_MAX_AGE_DAYS } from './vault.js';

/** Every refusal of this package: `code` is stable, `message` is for people. */
export class KeygenError extends Error {
  constructor(code, message, field) {
    super(message);
    this.name = 'KeygenError';
    this.code = code;
    if (field !== undefined) this.field = field;
  }
}

const RSA_SIZES = [2048, 3072, 4096];
const DEFAULT_WASM_URL = new URL('./wasm_keygen_bg.wasm', import.meta.url);

let modulePromise = null; // Promise<WebAssembly.Module>, shared by the page and the worker
let readyPromise = null;
let initialized = false;

function toKeygenError(e) {
  if (e instanceof KeygenError) return e;
  if (e && typeof e === 'object' && typeof e.code === 'string' && e.name === 'KeygenError') {
    return new KeygenError(e.code, e.message, e.field);
  }
  return new KeygenError('internal', String(e && e.message ? e.message : e));
}

async function compile(url) {
  const response = await fetch(url);
  if (!response.ok) {
    throw new KeygenError('load_failed', `cannot load ${url}: HTTP ${response.status}`);
  }
  // compileStreaming needs application/wasm; fall back for servers that send another type.
  if (WebAssembly.compileStreaming && response.headers.get('content-type') === 'application/wasm') {
    return WebAssembly.compileStreaming(response);
  }
  return WebAssembly.compile(await response.arrayBuffer());
}

function loadModule(wasmUrl) {
  if (!modulePromise) {
    const url = wasmUrl ? new URL(wasmUrl, globalThis.location?.href) : DEFAULT_WASM_URL;
    modulePromise = compile(url).catch((e) => {
      modulePromise = null; // allow a retry after a network error
      throw toKeygenError(e);
    });
  }
  return modulePromise;
}

/**
 * Loads and instantiates the wasm module (once; later calls return the same promise).
 * Must be awaited before the synchronous functions (buildCsr, buildPfx, ...).
 */
export function init(wasmUrl) {
  if (!readyPromise) {
    readyPromise = loadModule(wasmUrl)
      .then((module) => initWasm({ module_or_path: module }))
      .then(() => {
        initialized = true;
      })
      .catch((e) => {
        readyPromise = null;
        throw toKeygenError(e);
      });
  }
  return readyPromise;
}

function call(name, fn, ...args) {
  if (!initialized) {
    throw new KeygenError('not_initialized', `await init() before calling ${name}()`);
  }
  try {
    return fn(...args);
  } catch (e) {
    throw toKeygenError(e);
  }
}

function normalizeAlgorithm(algorithm) {
  if (algorithm === undefined || algorithm === null) return { kind: 'rsa', bits: 2048 };
  if (algorithm.kind === 'rsa') {
    const bits = algorithm.bits ?? 2048;
    if (!RSA_SIZES.includes(bits)) {
      throw new KeygenError('key_size', `RSA key size ${bits} is not allowed; use 2048, 3072 or 4096`);
    }
    return { kind: 'rsa', bits };
  }
  if (algorithm.kind === 'ec-p256') return { kind: 'ec-p256' };
  throw new KeygenError('unsupported_algorithm', `unsupported key algorithm: ${JSON.stringify(algorithm)}`);
}

function webCryptoParams(algorithm) {
  if (algorithm.kind === 'rsa') {
    return {
      name: 'RSASSA-PKCS1-v1_5',
      modulusLength: algorithm.bits,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: 'SHA-256',
    };
  }
  return { name: 'ECDSA', namedCurve: 'P-256' };
}

function hasWebCrypto() {
  return Boolean(globalThis.isSecureContext && globalThis.crypto?.subtle?.generateKey);
}

async function generateWithWebCrypto(algorithm, phase) {
  phase('generating');
  // Extractable: the key is exported to PKCS#8 for the PFX and the vault. The CryptoKey is
  // kept too, so that signCsr signs with WebCrypto instead of loading the key into Rust.
  const pair = await crypto.subtle.generateKey(webCryptoParams(algorithm), true, ['sign', 'verify']);
  phase('exporting');
  const [pkcs8, spki] = await Promise.all([
    crypto.subtle.exportKey('pkcs8', pair.privateKey),
    crypto.subtle.exportKey('spki', pair.publicKey),
  ]);
  return {
    pkcs8: new Uint8Array(pkcs8),
    spki: new Uint8Array(spki),
    algorithm,
    backend: 'webcrypto',
    privateKey: pair.privateKey,
  };
}

// The pure-Rust path runs in module workers: RSA prime search takes hundreds of
// milliseconds and must not freeze the page. With two or more cores, an RSA key's two primes
// are searched at the same time in two workers (slots 0 and 1) and joined in slot 0;
// otherwise one worker does it all.
const workers = [null, null];
let nextJob = 1;
const jobs = new Map(); // id -> { resolve, reject, phase, worker }

function failJobsOf(w, error) {
  for (const [id, job] of jobs) {
    if (job.worker === w) {
      jobs.delete(id);
      job.reject(error);
    }
  }
}

function getWorker(slot) {
  if (workers[slot]) return workers[slot];
  const w = new Worker(new URL('./worker.js', import.meta.url), { type: 'module', name: 'keygen' });
  w.onmessage = (ev) => {
    const msg = ev.data;
    const job = jobs.get(msg.id);
    if (!job) {
      msg.prime?.fill(0); // a cancelled search that finished anyway
      return;
    }
    if (msg.type === 'phase') {
      job.phase(msg.phase);
    } else {
      jobs.delete(msg.id);
      if (msg.type === 'result') job.resolve(msg);
      else job.reject(new KeygenError(msg.code, msg.message, msg.field));
    }
  };
  w.onerror = (ev) => {
    ev.preventDefault();
    if (workers[slot] === w) workers[slot] = null;
    failJobsOf(w, new KeygenError('worker_failed', `key generation worker failed: ${ev.message || 'cannot start'}`));
  };
  workers[slot] = w;
  return w;
}

/**
 * Runs one job in the worker of `slot`; resolves with the worker's result message. The
 * promise's `jobId` names the job for `cancelJob`.
 */
function runInWorker(slot, message, phase) {
  const id = nextJob++;
  const promise = new Promise((resolve, reject) => {
    try {
      const w = getWorker(slot);
      jobs.set(id, { resolve, reject, phase, worker: w });
      w.postMessage({ id, ...message });
    } catch (e) {
      // e.g. SecurityError when a CSP forbids workers
      jobs.delete(id);
      workers[slot] = null;
      reject(new KeygenError('worker_failed', `cannot start the key generation worker: ${e && e.message}`));
    }
  });
  promise.jobId = id;
  return promise;
}

/**
 * Drops a job whose result is no longer wanted. The worker is asked to stop the search
 * (it does so within one slice of a few primality tests) and stays up for the next key;
 * terminating it and starting a new one would make a key generated right after this one
 * wait for the new worker.
 */
function cancelJob(id) {
  const job = jobs.get(id);
  if (!job) return;
  jobs.delete(id);
  job.worker.postMessage({ op: 'cancel', target: id });
}

function twoWorkers(algorithm) {
  return algorithm.kind === 'rsa' && (globalThis.navigator?.hardwareConcurrency ?? 1) >= 2;
}

/**
 * Two RSA primes from two workers searching at the same time. The first worker to find a
 * prime searches again, so the key takes the first two primes found by either worker; the
 * search still running then is cancelled. Resolves with the primes and the idle worker's slot.
 */
function racePrimes(module, bits, phase) {
  return new Promise((resolve, reject) => {
    const primes = [];
    const running = new Map(); // slot -> job id of its unfinished search
    let settled = false;
    const finish = () => {
      settled = true;
      for (const id of running.values()) cancelJob(id);
    };
    const search = (slot) => {
      const job = runInWorker(slot, { op: 'prime', module, bits }, phase);
      running.set(slot, job.jobId);
      job.then(
        ({ prime }) => {
          running.delete(slot);
          if (settled) {
            prime.fill(0);
          } else if (primes.push(prime) < 2) {
            search(slot);
          } else {
            finish();
            resolve({ primes, slot });
          }
        },
        (e) => {
          running.delete(slot);
          if (settled) return;
          finish();
          for (const prime of primes) prime.fill(0);
          reject(e);
        },
      );
    };
    search(0);
    search(1);
  });
}

/** RSA on two workers: the two primes in parallel, then the key in the idle worker. */
async function rsaOnTwoWorkers(module, bits, phase) {
  for (;;) {
    const { primes, slot } = await racePrimes(module, bits, phase);
    try {
      const [p, q] = primes;
      return await runInWorker(slot, { op: 'assemble', module, bits, p, q }, phase);
    } catch (e) {
      // |p - q| too small (probability about 2^-100): two new primes.
      if (!(e instanceof KeygenError) || e.code !== 'primes_too_close') throw e;
    } finally {
      // The page's copies of the secret primes (the worker wipes its own).
      for (const prime of primes) prime.fill(0);
    }
  }
}

async function generateWithRust(algorithm, outerPhase) {
  // Both workers report 'generating': pass each phase on once.
  let last = null;
  const phase = (p) => {
    if (p !== last) outerPhase((last = p));
  };
  phase('loading');
  const module = await loadModule();
  const bits = algorithm.bits ?? 0;
  let result;
  if (typeof Worker === 'function') {
    try {
      result = twoWorkers(algorithm)
        ? await rsaOnTwoWorkers(module, bits, phase)
        : await runInWorker(0, { op: 'generate', module, kind: algorithm.kind, bits }, phase);
    } catch (e) {
      if (!(e instanceof KeygenError) || e.code !== 'worker_failed') throw e;
      result = null; // a worker could not start: generate on this thread instead
    }
  }
  if (!result) {
    await init();
    phase('generating');
    result = call('generateKey', wasm.generateKeyPair, algorithm.kind, bits);
  }
  return { pkcs8: result.pkcs8, spki: result.spki, algorithm, backend: 'rust' };
}

/**
 * Generates a key pair. `backend: 'auto'` (default) uses WebCrypto when the browser can
 * and falls back to the Rust implementation in a worker.
 */
export async function generateKey(opts = {}) {
  const algorithm = normalizeAlgorithm(opts.algorithm);
  const backend = opts.backend ?? 'auto';
  if (!['auto', 'webcrypto', 'rust'].includes(backend)) {
    throw new KeygenError('backend', `unknown backend ${JSON.stringify(backend)}; use auto, webcrypto or rust`);
  }
  const phase = typeof opts.onPhase === 'function' ? opts.onPhase : () => {};
  let key = null;
  if (backend !== 'rust') {
    if (hasWebCrypto()) {
      try {
        key = await generateWithWebCrypto(algorithm, phase);
      } catch (e) {
        if (backend === 'webcrypto') {
          throw new KeygenError('webcrypto_failed', `WebCrypto key generation failed: ${e && e.message}`);
        }
      }
    } else if (backend === 'webcrypto') {
      throw new KeygenError('webcrypto_unavailable', 'WebCrypto is not available (needs a secure context)');
    }
  }
  if (!key) key = await generateWithRust(algorithm, phase);
  phase('done');
  return key;
}

function bytes(value, what) {
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  throw new KeygenError(what === 'key' ? 'bad_key' : 'bad_certificate', `${what} must be bytes`);
}

function certificateBytes(value) {
  return typeof value === 'string' ? new TextEncoder().encode(value) : bytes(value, 'certificate');
}

function optionalString(v) {
  return v === undefined || v === null ? undefined : String(v);
}

function subjectFields(subject) {
  const s = subject ?? {};
  return [
    String(s.cn ?? ''),
    optionalString(s.o),
    optionalString(s.ou),
    optionalString(s.c),
    optionalString(s.serialNumber),
  ];
}

/** Signs a PKCS#10 request for the PKCS#8 key with the given subject, in Rust. */
export function buildCsr(pkcs8, subject = {}) {
  return call('buildCsr', wasm.buildCsr, bytes(pkcs8, 'key'), ...subjectFields(subject));
}

function isCryptoKey(k) {
  return typeof CryptoKey === 'function' && k instanceof CryptoKey;
}

/** WebCrypto's name for a SHA-256 signature with `key` (the hash of an RSA key is fixed). */
function signatureParams(key) {
  return key.algorithm.name === 'ECDSA' ? { name: 'ECDSA', hash: 'SHA-256' } : { name: key.algorithm.name };
}

/**
 * Signs a PKCS#10 request for `key` (what generateKey or KeyVault.get returned). A key made
 * by WebCrypto is signed by WebCrypto with the CryptoKey it keeps: Rust only writes the
 * request around the signature. Any other key is signed by the Rust code (as buildCsr).
 */
export async function signCsr(key, subject = {}) {
  await init();
  const fields = subjectFields(subject);
  if (!isCryptoKey(key?.privateKey)) return buildCsr(key?.pkcs8, subject);
  const info = call('signCsr', wasm.csrInfo, bytes(key.spki, 'key'), ...fields);
  let signature;
  try {
    signature = await crypto.subtle.sign(signatureParams(key.privateKey), key.privateKey, info);
  } catch (e) {
    throw new KeygenError('webcrypto_failed', `WebCrypto signature failed: ${e && e.message}`);
  }
  return call('signCsr', wasm.csrAssemble, info, new Uint8Array(signature));
}

/** Packs key, certificate and chain into a password-protected .pfx. */
export function buildPfx(o) {
  const opts = o ?? {};
  const chain = (opts.chain ?? []).map(certificateBytes);
  return call(
    'buildPfx',
    wasm.buildPfx,
    bytes(opts.pkcs8, 'key'),
    certificateBytes(opts.certificate),
    chain,
    String(opts.password ?? ''),
    String(opts.friendlyName ?? ''),
    String(opts.profile ?? 'compatible'),
  );
}

/** `.cer` (DER) bytes from PEM text or DER. */
export function certificateToDer(pemOrDer) {
  return call('certificateToDer', wasm.certificateToDer, certificateBytes(pemOrDer));
}

/** PEM text from DER. */
export function certificateToPem(der) {
  return call('certificateToPem', wasm.certificateToPem, bytes(der, 'certificate'));
}

/** Throws KeygenError (password_required | password_format | password_mismatch). */
export function validatePassword(pw, confirm) {
  call('validatePassword', wasm.validatePassword, String(pw ?? ''), optionalString(confirm));
}

/** Throws KeygenError (file_name_required | file_name_format | file_name_too_long). */
export function validateFileName(name) {
  call('validateFileName', wasm.validateFileName, String(name ?? ''));
}
