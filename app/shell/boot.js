// Starts the app without inline script (the CSP allows only 'self' scripts): checks that
// the browser can run WebAssembly, then loads the Leptos app, whose start function mounts it.
// `cargo xtask web` fills in the app's content-hashed URLs (and hashes this file in turn).

function unsupported(detail) {
  const box = document.getElementById('unsupported');
  const app = document.getElementById('app');
  if (app) app.hidden = true;
  if (box) {
    box.hidden = false;
    const d = document.getElementById('unsupported-detail');
    if (d && detail) d.textContent = detail;
  }
}

if (typeof WebAssembly !== 'object' || typeof WebAssembly.instantiate !== 'function') {
  unsupported('WebAssembly is not available.');
} else {
  import('__APP_JS__')
    .then((m) => m.default({ module_or_path: '__APP_WASM__' }))
    .catch((e) => {
      unsupported(`The application failed to load: ${e && e.message ? e.message : e}`);
      throw e;
    });
}
