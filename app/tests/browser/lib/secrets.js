// Request-body capture for "the private key never leaves the browser": every request of a
// browser context (pages and workers) with its body, and the forms a secret could take.

import { COMPANY } from './flows.js';

/** Starts recording; returns the array that fills up. */
export function recordRequests(context) {
  const seen = [];
  context.on('request', (r) => {
    seen.push({ method: r.method(), url: r.url(), body: r.postDataBuffer() ?? Buffer.alloc(0) });
  });
  return seen;
}

/** The encodings of `bytes` a leak could use: raw, base64, base64url, hex (both cases). */
export function encodings(bytes) {
  const b = Buffer.from(bytes);
  const b64 = b.toString('base64');
  return [
    b,
    Buffer.from(b64),
    Buffer.from(b64.replace(/=+$/, '')),
    Buffer.from(b.toString('base64url')),
    Buffer.from(b.toString('hex')),
    Buffer.from(b.toString('hex').toUpperCase()),
    // A PEM body is wrapped at 64 columns: its first line is enough to recognise it.
    Buffer.from(b64.slice(0, 64)),
  ];
}

/** Every (request, needle-name) where a body contains a needle. */
export function leaks(requests, needles) {
  const found = [];
  for (const r of requests) {
    for (const [name, list] of Object.entries(needles)) {
      for (const n of list) {
        if (n.length > 0 && r.body.includes(n)) found.push(`${r.method} ${r.url} contains ${name}`);
      }
    }
  }
  return found;
}

/** The PKCS#8 of the key the app stored for `serial`, read from `owner`'s vault in the page. */
export async function vaultKey(page, serial, owner = COMPANY.taxId) {
  const b64 = await page.evaluate(async ({ id, owner }) => {
    const { KeyVault } = await import('/keygen/index.js');
    const v = await KeyVault.open({ owner });
    const k = await v.get(id);
    v.close();
    if (!k) return null;
    let s = '';
    for (const x of k.pkcs8) s += String.fromCharCode(x);
    return btoa(s);
  }, { id: serial, owner });
  return b64 === null ? null : Buffer.from(b64, 'base64');
}

export async function vaultIds(page, owner = COMPANY.taxId) {
  return page.evaluate(async (owner) => {
    const { KeyVault } = await import('/keygen/index.js');
    const v = await KeyVault.open({ owner });
    const ids = (await v.list()).map((e) => e.id);
    v.close();
    return ids;
  }, owner);
}
