// Module worker for the pure-Rust key generation, so the page keeps responding.
// Receives the compiled WebAssembly.Module from index.js (no second download or compile).
//
// Jobs (`op`): `generate` a whole key pair; `prime`, one RSA prime (index.js runs these in
// two workers at once); `assemble` the RSA key from two primes; `init` only instantiates;
// `cancel` stops the prime search `target`, which then answers `cancelled` (the cancel
// itself gets no answer; a search that found its prime first answers with it).

import initWasm, { generateKeyPair, searchRsaPrime, rsaKeyFromPrimes } from './wasm_keygen.js';

// Primality tests per slice of a prime search (about 3 ms each for RSA-2048 in Wasm): between
// slices the worker reads its messages, so a cancelled search ends within one slice and
// the worker is free for the next key without being terminated and started again.
const CANDIDATES_PER_SLICE = 8;

let ready = null;
const searches = new Set(); // ids of prime searches received and not yet answered
const cancelled = new Set();

// Resolves once the messages queued before it have been handled (a macrotask, like
// setTimeout(0) but without its 4 ms clamp).
const channel = new MessageChannel();
const waiting = [];
channel.port1.onmessage = () => waiting.shift()?.();
function nextTask() {
  return new Promise((resolve) => {
    waiting.push(resolve);
    channel.port2.postMessage(null);
  });
}

/** One RSA prime, or null if the search was cancelled first. */
async function searchPrime(id, bits) {
  // Read the messages already queued before the first slice: a cancel sent right behind
  // the job then stops it before any work, instead of after the first slice.
  await nextTask();
  for (;;) {
    if (cancelled.has(id)) return null;
    const prime = searchRsaPrime(bits, CANDIDATES_PER_SLICE);
    if (prime) return prime;
    await nextTask();
  }
}

async function run(msg) {
  switch (msg.op) {
    case 'init':
      return [{}, []];
    case 'prime': {
      const prime = await searchPrime(msg.id, msg.bits);
      return prime ? [{ prime }, [prime.buffer]] : [{ cancelled: true }, []];
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
  if (msg.op === 'cancel') {
    if (searches.has(msg.target)) cancelled.add(msg.target);
    return;
  }
  const { id, module } = msg;
  // Registered before any await, so that a cancel arriving while the module is still being
  // instantiated stops this search too.
  if (msg.op === 'prime') searches.add(id);
  try {
    if (!ready) ready = initWasm({ module_or_path: module });
    await ready;
    if (msg.op === 'prime' || msg.op === 'generate') self.postMessage({ id, type: 'phase', phase: 'generating' });
    const [result, transfer] = await run(msg);
    self.postMessage({ id, type: result.cancelled ? 'cancelled' : 'result', ...result }, transfer);
  } catch (e) {
    self.postMessage({
      id,
      type: 'error',
      code: typeof e?.code === 'string' ? e.code : 'internal',
      message: String(e?.message ?? e),
      field: e?.field,
    });
  } finally {
    searches.delete(id);
    cancelled.delete(id);
  }
};
