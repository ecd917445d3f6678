// Starts the app without inline script (the CSP allows only 'self' scripts): checks that
// the browser can run WebAssembly, then loads the Leptos app, whose start function mounts it.

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
  import('/app/app.js?v=__VERSION__')
    .then((m) => m.default({ module_or_path: '/app/app_bg.wasm?v=__VERSION__' }))
    .catch((e) => {
      unsupported(`The application failed to load: ${e && e.message ? e.message : e}`);
      throw e;
    });
}
