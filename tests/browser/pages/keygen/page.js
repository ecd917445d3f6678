// Exposes the keygen package to the tests exactly as a portal page would import it.
import * as keygen from '/keygen/index.js';
import * as raw from '/keygen/wasm_keygen.js';

window.cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`);
});

window.keygen = keygen;
// The generated bindings, to run key generation on the main thread as a control.
window.rawWasm = raw;
window.toB64 = (bytes) => {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
};
window.fromB64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
/** Runs `fn` and returns the KeygenError's code (or a description of what was thrown). */
window.codeOf = async (fn) => {
  try {
    await fn();
    return 'no error';
  } catch (e) {
    if (e instanceof keygen.KeygenError && e.name === 'KeygenError') return e.code;
    return `not a KeygenError: ${e && e.name}: ${e && e.message}`;
  }
};
/**
 * What the vault's IndexedDB holds, read and written around the package (as a hostile or
 * curious script in the page could): `get(store, key)`, `getAll(store)`, `put(store, value)`.
 */
window.rawVault = {
  async run(store, mode, op) {
    const db = await new Promise((resolve, reject) => {
      const r = indexedDB.open('customs-keygen-vault');
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
    try {
      return await new Promise((resolve, reject) => {
        const tx = db.transaction(store, mode);
        const r = op(tx.objectStore(store));
        tx.oncomplete = () => resolve(r.result);
        tx.onerror = () => reject(tx.error);
      });
    } finally {
      db.close();
    }
  },
  get(store, key) {
    return this.run(store, 'readonly', (s) => s.get(key));
  },
  getAll(store) {
    return this.run(store, 'readonly', (s) => s.getAll());
  },
  put(store, value) {
    return this.run(store, 'readwrite', (s) => s.put(value));
  },
};
window.keygenReady = true;
