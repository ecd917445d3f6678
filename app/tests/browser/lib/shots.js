// Screenshots of the main pages, for the README: every run writes them to screenshots/;
// with UPDATE_DOCS_SCREENSHOTS=1 a passing journey also copies the chosen ones to
// docs/screenshots/ (committed).

import { mkdirSync, copyFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT, DIST } from '../../../../tests/browser/lib/harness.js';

export { ROOT, DIST };
export const SHOTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../screenshots');

export async function shot(page, name, { fullPage = true } = {}) {
  mkdirSync(SHOTS, { recursive: true });
  const file = path.join(SHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage });
  return file;
}

export function copyToDocs(names) {
  if (process.env.UPDATE_DOCS_SCREENSHOTS !== '1') return false;
  const docs = path.join(ROOT, 'docs/screenshots');
  mkdirSync(docs, { recursive: true });
  for (const n of names) copyFileSync(path.join(SHOTS, `${n}.png`), path.join(docs, `${n}.png`));
  return true;
}
