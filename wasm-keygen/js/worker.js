// Module worker for the pure-Rust key generation, so the page keeps responding.
// Receives the compiled WebAssembly.Module from index.js (no second download or compile).

import initWasm, { generateKeyPair } from './wasm_keygen.js';

let ready = null;

self.onmessage = async (ev) => {
  const { id, module, kind, bits } = ev.data;
  try {
    if (!ready) ready = initWasm({ module_or_path: module });
    await ready;
    self.postMessage({ id, type: 'phase', phase: 'generating' });
    const { pkcs8, spki } = generateKeyPair(kind, bits);
    self.postMessage({ id, type: 'result', pkcs8, spki }, [pkcs8.buffer, spki.buffer]);
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
