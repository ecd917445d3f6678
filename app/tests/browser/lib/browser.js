// The app's tests use the one browser harness of the repository (tests/browser/lib): its
// launcher (Debian Chromium through playwright-core, Debian Firefox ESR through
// puppeteer-core) and its page watch. What is the app's own: Chromium in Taiwan's locale, and
// the expected 401 of GET /api/session before a login.

import { launch } from '../../../../tests/browser/lib/launcher.js';
import { watchPage, requireBuilt } from '../../../../tests/browser/lib/harness.js';

/** `engine`: chromium (default; in zh-TW, Taiwan's date format in <input type=date>) or firefox. */
export function launchBrowser({ engine = 'chromium', extraArgs = [] } = {}) {
  return launch(engine, { args: engine === 'chromium' ? ['--lang=zh-TW', ...extraArgs] : extraArgs });
}

/**
 * A new page in `context` whose console errors and uncaught errors land in `problems`.
 * Expected HTTP errors (e.g. the 401 of GET /api/session before login) are console
 * messages of type "error" in Chromium too; `allow` lists URL fragments whose failed
 * loads are part of the test.
 */
export async function newPage(context, { allow = ['/api/session'] } = {}) {
  const page = await context.newPage();
  return { page, problems: watchPage(page, { allow }) };
}

/** Waits until the app replaced the shell's loading text. */
export async function waitForApp(page) {
  await page.waitForSelector('main#main');
  await page.waitForFunction(() => !document.querySelector('main .loading'));
}

/** Fails with the command to run when the app (and, by default, the keygen module) is not built. */
export function requireApp(files = ['index.html', 'keygen/wasm_keygen_bg.wasm']) {
  for (const f of files) requireBuilt(f, 'cargo xtask web');
}
