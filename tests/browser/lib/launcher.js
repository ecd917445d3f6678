// Which browser engine runs a test, in one place: Debian Chromium through playwright-core
// (it cannot download browsers here), and Debian Firefox ESR through puppeteer-core over
// WebDriver BiDi (no geckodriver). Both come back with the small part of playwright's API
// the browser tests use, so a test file is written once and run in each engine:
//
//   browser.version(), browser.newContext(), browser.close()
//   context.newPage(), context.addInitScript(fn, arg), context.close()
//   page.goto(url) -> response (status(), headers()), page.url(), page.evaluate(fn, arg),
//   page.waitForFunction(fn, arg?, { timeout }?), page.waitForSelector(sel, { timeout, state }?),
//   page.click(sel), page.fill(sel, value), page.check(sel), page.isChecked(sel),
//   page.selectOption(sel, value), page.setInputFiles(sel, file), page.textContent(sel),
//   page.screenshot({ path, fullPage }), page.on('console' | 'pageerror', f), page.close()
//
// Downloads differ between the engines; a test that needs the files an app saves captures
// them in the page instead (see captureDownloads in app/tests/browser/lib/downloads.js).
//
// Engines: `BROWSERS=chromium,firefox` (the default) picks them; `CHROMIUM_PATH` and
// `FIREFOX_PATH` point at other binaries.

import { existsSync } from 'node:fs';

export const ENGINES = ['chromium', 'firefox'];

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const FIREFOX = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The engines this run covers: `BROWSERS` (comma-separated), else all of them. */
export function selectedEngines(env = process.env.BROWSERS) {
  const names = (env ?? ENGINES.join(','))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const n of names) {
    if (!ENGINES.includes(n)) throw new Error(`unknown browser engine ${n}: use ${ENGINES.join(', ')}`);
  }
  return names;
}

function requireBinary(path, pkg, variable) {
  if (!existsSync(path)) {
    throw new Error(`${path} not found: install it with \`apt-get install ${pkg}\` (or set ${variable})`);
  }
}

/** Launches `engine` headless; `args` are extra command-line arguments (Chromium only). */
export async function launch(engine = 'chromium', { args = [] } = {}) {
  if (engine === 'chromium') {
    requireBinary(CHROMIUM, 'chromium', 'CHROMIUM_PATH');
    const { chromium } = await import('playwright-core');
    return chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS, ...args] });
  }
  if (engine === 'firefox') {
    requireBinary(FIREFOX, 'firefox-esr', 'FIREFOX_PATH');
    const { default: puppeteer } = await import('puppeteer-core');
    const browser = await puppeteer.launch({
      browser: 'firefox',
      executablePath: FIREFOX,
      headless: true,
      // Firefox's own telemetry and update checks would be network requests to nowhere.
      extraPrefsFirefox: { 'app.update.enabled': false, 'datareporting.policy.dataSubmissionEnabled': false },
    });
    return new FirefoxBrowser(browser, await browser.version());
  }
  throw new Error(`unknown browser engine ${engine}`);
}

/** `fn` with `arg` as the source of a script that runs before the page's own scripts. */
function initScriptSource(fn, arg) {
  return `(${fn})(${arg === undefined ? '' : JSON.stringify(arg)})`;
}

class FirefoxBrowser {
  #browser;
  #version;

  constructor(browser, version) {
    this.#browser = browser;
    this.#version = version;
  }

  version() {
    return this.#version;
  }

  async newContext() {
    return new FirefoxContext(await this.#browser.createBrowserContext());
  }

  close() {
    return this.#browser.close();
  }
}

class FirefoxContext {
  #context;
  #initScripts = [];

  constructor(context) {
    this.#context = context;
  }

  async addInitScript(fn, arg) {
    this.#initScripts.push(initScriptSource(fn, arg));
  }

  async newPage() {
    const page = await this.#context.newPage();
    for (const source of this.#initScripts) await page.evaluateOnNewDocument(source);
    return new FirefoxPage(page);
  }

  close() {
    return this.#context.close();
  }
}

class FirefoxPage {
  #page;

  constructor(page) {
    this.#page = page;
  }

  goto(url) {
    return this.#page.goto(url);
  }

  url() {
    return this.#page.url();
  }

  evaluate(fn, arg) {
    return this.#page.evaluate(fn, arg);
  }

  waitForFunction(fn, arg, { timeout = 30_000 } = {}) {
    return this.#page.waitForFunction(fn, { timeout, polling: 50 }, arg);
  }

  /** As playwright: waits for a visible element, or with `state: 'detached'` for none. */
  async waitForSelector(selector, { timeout = 30_000, state = 'visible' } = {}) {
    const options = state === 'detached' || state === 'hidden' ? { hidden: true } : { visible: state === 'visible' };
    return this.#page.waitForSelector(selector, { timeout, ...options });
  }

  async click(selector) {
    await this.waitForSelector(selector);
    await this.#page.click(selector);
  }

  /** As playwright's fill: sets the value and fires `input` and `change`, as typing would. */
  async fill(selector, value) {
    await this.waitForSelector(selector);
    await this.#page.$eval(selector, (el, v) => {
      el.focus();
      el.value = v;
      el.dispatchEvent(new Event('input', { bubbles: true }));
      el.dispatchEvent(new Event('change', { bubbles: true }));
    }, value);
  }

  async check(selector) {
    if (!(await this.isChecked(selector))) await this.click(selector);
    if (!(await this.isChecked(selector))) throw new Error(`${selector} did not become checked`);
  }

  isChecked(selector) {
    return this.#page.$eval(selector, (el) => el.checked);
  }

  async selectOption(selector, value) {
    await this.waitForSelector(selector);
    return this.#page.select(selector, value);
  }

  async setInputFiles(selector, file) {
    const input = await this.#page.waitForSelector(selector);
    await input.uploadFile(file);
  }

  textContent(selector) {
    return this.#page.$eval(selector, (el) => el.textContent);
  }

  screenshot({ path, fullPage = false } = {}) {
    return this.#page.screenshot({ path, fullPage });
  }

  on(event, handler) {
    this.#page.on(event, handler);
    return this;
  }

  close() {
    return this.#page.close();
  }
}
