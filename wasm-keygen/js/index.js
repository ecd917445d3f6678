// @customs-portal/keygen: key pair, PKCS#10 CSR and PKCS#12 (.pfx) in the browser.
// The private key never leaves the page. See README.md and index.d.ts.

import initWasm, * as wasm from './wasm_keygen.js';

export { KeyVault } from './vault.js';

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
  // Extractable: the key is exported to PKCS#8 for the CSR, the PFX and the vault.
  const pair = await crypto.subtle.generateKey(webCryptoParams(algorithm), true, ['sign', 'verify']);
  phase('exporting');
  const [pkcs8, spki] = await Promise.all([
    crypto.subtle.exportKey('pkcs8', pair.privateKey),
    crypto.subtle.exportKey('spki', pair.publicKey),
  ]);
  return { pkcs8: new Uint8Array(pkcs8), spki: new Uint8Array(spki), algorithm, backend: 'webcrypto' };
}

// The pure-Rust path runs in a module worker: RSA prime search takes hundreds of
// milliseconds and must not freeze the page.
let worker = null;
let nextJob = 1;
const jobs = new Map();

function failAll(error) {
  for (const job of jobs.values()) job.reject(error);
  jobs.clear();
}

function getWorker() {
  if (worker) return worker;
  worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module', name: 'keygen' });
  worker.onmessage = (ev) => {
    const msg = ev.data;
    const job = jobs.get(msg.id);
    if (!job) return;
    if (msg.type === 'phase') {
      job.phase(msg.phase);
    } else {
      jobs.delete(msg.id);
      if (msg.type === 'result') job.resolve(msg);
      else job.reject(new KeygenError(msg.code, msg.message, msg.field));
    }
  };
  worker.onerror = (ev) => {
    ev.preventDefault();
    worker = null;
    failAll(new KeygenError('worker_failed', `key generation worker failed: ${ev.message || 'cannot start'}`));
  };
  return worker;
}

async function generateWithRust(algorithm, phase) {
  phase('loading');
  const module = await loadModule();
  const bits = algorithm.bits ?? 0;
  let result;
  if (typeof Worker === 'function') {
    try {
      result = await new Promise((resolve, reject) => {
        const id = nextJob++;
        jobs.set(id, { resolve, reject, phase });
        try {
          getWorker().postMessage({ id, module, kind: algorithm.kind, bits });
        } catch (e) {
          // e.g. SecurityError when a CSP forbids workers
          jobs.delete(id);
          worker = null;
          reject(new KeygenError('worker_failed', `cannot start the key generation worker: ${e && e.message}`));
        }
      });
    } catch (e) {
      if (!(e instanceof KeygenError) || e.code !== 'worker_failed') throw e;
      result = null; // the worker could not start: generate on this thread instead
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

/** Signs a PKCS#10 request for the key with the given subject. */
export function buildCsr(pkcs8, subject = {}) {
  const s = subject ?? {};
  return call(
    'buildCsr',
    wasm.buildCsr,
    bytes(pkcs8, 'key'),
    String(s.cn ?? ''),
    optionalString(s.o),
    optionalString(s.ou),
    optionalString(s.c),
    optionalString(s.serialNumber),
  );
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
