// Shared helpers for the browser tests and benchmarks: the browser engines (lib/launcher.js),
// and a tiny static server that serves dist/ with the portal's strict CSP.

import { createServer } from 'node:http';
import { existsSync, statSync, createReadStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { launch } from './launcher.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const DIST = process.env.PORTAL_DIST ?? path.join(ROOT, 'dist');
export const PAGES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../pages');

/** The portal's Content-Security-Policy: no inline script, wasm allowed, nothing else. */
export const CSP =
  "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; object-src 'none'; base-uri 'none'";

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.ts': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
};

/** Fails with the command to run when a bundle under dist/ has not been built. */
export function requireBuilt(relative, command) {
  const p = path.join(DIST, relative);
  if (!existsSync(p)) {
    throw new Error(`${p} is missing: build it first with \`${command}\` (from the repository root)`);
  }
  return p;
}

/**
 * Serves `mounts` ({ urlPrefix: directory }, longest prefix wins) on 127.0.0.1 with an
 * ephemeral port. Every response carries the CSP. Requests are recorded in `requests`.
 * `routes` ({ 'POST /path': (body) => ({ status, type, body }) }) answer other requests.
 */
export async function startServer(mounts = { '/': DIST, '/test/': PAGES }, { csp = CSP, routes = {} } = {}) {
  const prefixes = Object.keys(mounts).sort((a, b) => b.length - a.length);
  const requests = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url, 'http://127.0.0.1');
      requests.push({ method: req.method, path: url.pathname, body: Buffer.concat(chunks) });
      res.setHeader('Content-Security-Policy', csp);
      res.setHeader('X-Content-Type-Options', 'nosniff');
      res.setHeader('Cache-Control', 'no-store');
      const route = routes[`${req.method} ${url.pathname}`];
      if (route) {
        Promise.resolve()
          .then(() => route(Buffer.concat(chunks)))
          .then(
            (r) => res.writeHead(r.status ?? 200, { 'Content-Type': r.type ?? 'application/json' }).end(r.body),
            (e) => res.writeHead(500).end(String(e)),
          );
        return;
      }
      const prefix = prefixes.find((p) => url.pathname.startsWith(p));
      if (!prefix || (req.method !== 'GET' && req.method !== 'HEAD')) {
        res.writeHead(404).end('not found');
        return;
      }
      const base = path.resolve(mounts[prefix]);
      let file = path.resolve(base, '.' + decodeURIComponent(url.pathname.slice(prefix.length - 1)));
      if (file !== base && !file.startsWith(base + path.sep)) {
        res.writeHead(403).end('forbidden');
        return;
      }
      if (existsSync(file) && statSync(file).isDirectory()) file = path.join(file, 'index.html');
      if (!existsSync(file)) {
        res.writeHead(404).end('not found');
        return;
      }
      res.writeHead(200, { 'Content-Type': MIME[path.extname(file)] ?? 'application/octet-stream' });
      if (req.method === 'HEAD') res.end();
      else createReadStream(file).pipe(res);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** Launches `engine` (chromium or firefox, see lib/launcher.js) headless. */
export function launchBrowser(engine = 'chromium') {
  return launch(engine);
}

/**
 * Collects what must stay empty on `page` (either engine): uncaught page errors and console
 * errors, CSP violations among them. Browsers ask for /favicon.ico on their own; its 404 is
 * not the page's problem. `allow` lists URL fragments whose failed loads ("Failed to load
 * resource: … 401") a test expects.
 */
export function watchPage(page, { allow = [] } = {}) {
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const url = m.location()?.url ?? '';
    const text = m.text();
    if (url.endsWith('/favicon.ico')) return;
    if (text.startsWith('Failed to load resource') && allow.some((a) => url.includes(a))) return;
    problems.push(`console.error: ${text} (${url})`);
  });
  return problems;
}

/** Opens `url` in a new page of `context`, watched (see watchPage). */
export async function openPage(context, url) {
  const page = await context.newPage();
  const problems = watchPage(page);
  const response = await page.goto(url);
  return { page, problems, response };
}

export const b64 = {
  toBytes: (s) => new Uint8Array(Buffer.from(s, 'base64')),
  fromBytes: (b) => Buffer.from(b).toString('base64'),
};
