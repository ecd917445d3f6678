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
window.keygenReady = true;
