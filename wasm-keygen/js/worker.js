// Module worker for the pure-Rust key generation, so the page keeps responding.
// Receives the compiled WebAssembly.Module from index.js (no second download or compile).
//
// Jobs (`op`): `generate` a whole key pair; `prime`, one RSA prime (index.js runs these in
// two workers at once); `assemble` the RSA key from two primes; `init` only instantiates.

import initWasm, { generateKeyPair, generateRsaPrime, rsaKeyFromPrimes } from './wasm_keygen.js';

let ready = null;

function run(msg) {
  switch (msg.op) {
    case 'init':
      return [{}, []];
    case 'prime': {
      const prime = generateRsaPrime(msg.bits);
      return [{ prime }, [prime.buffer]];
    }
    case 'assemble': {
      try {
        const { pkcs8, spki } = rsaKeyFromPrimes(msg.bits, msg.p, msg.q);
        return [{ pkcs8, spki }, [pkcs8.buffer, spki.buffer]];
      } finally {
        // This worker's copies of the secret primes.
        msg.p.fill(0);
        msg.q.fill(0);
      }
    }
    default: {
      const { pkcs8, spki } = generateKeyPair(msg.kind, msg.bits);
      return [{ pkcs8, spki }, [pkcs8.buffer, spki.buffer]];
    }
  }
}

self.onmessage = async (ev) => {
  const msg = ev.data;
  const { id, module } = msg;
  try {
    if (!ready) ready = initWasm({ module_or_path: module });
    await ready;
    if (msg.op === 'prime' || msg.op === 'generate') self.postMessage({ id, type: 'phase', phase: 'generating' });
    const [result, transfer] = run(msg);
    self.postMessage({ id, type: 'result', ...result }, transfer);
  } catch (e) {
    self.postMessage({
      id,
      type: 'error',
      code: typeof e?.code === 'string' ? e.code : 'internal',
      message: String(e?.message ?? e),
      field: e?.field,
    });
  }
};
