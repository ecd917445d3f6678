// The real portal server for the journey tests: built with cargo, started on a free
// 127.0.0.1 port with a temporary data directory, dist/ as its web directory, the
// development login on, and one operator account made with its CLI. Every request body
// the browser sends is recorded by the tests themselves (context.on('request')).
//
// PORTAL_URL (+ PORTAL_OPERATOR_USER / PORTAL_OPERATOR_PASSWORD) uses a server that is
// already running instead.

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT, DIST } from './shots.js';

const OPERATOR = { username: 'operator1', password: 'OpPass2026secret' };

/** Builds the server binary and returns its path (from cargo's artifact messages). */
export function buildServer() {
  const r = spawnSync('cargo', ['build', '-p', 'server', '--bin', 'portal', '--message-format=json-render-diagnostics'], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error('cargo build -p server failed (see the compiler output above)');
  for (const line of r.stdout.split('\n').reverse()) {
    if (!line.startsWith('{')) continue;
    const m = JSON.parse(line);
    if (m.reason === 'compiler-artifact' && m.target?.name === 'portal' && m.executable) return m.executable;
  }
  throw new Error('cargo build -p server produced no `portal` executable');
}

async function freePort() {
  const srv = createServer();
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

/** Environment of the server and of its CLI (same data). Names from server/src/config.rs. */
function serverEnv(dataDir, port) {
  return {
    ...process.env,
    PORTAL_BIND: `127.0.0.1:${port}`,
    PORTAL_DATA_DIR: dataDir,
    PORTAL_WEB_DIR: DIST,
    PORTAL_PUBLIC_URL: `http://127.0.0.1:${port}`,
    PORTAL_AUTH__DEV_LOGIN: 'true',
    RUST_LOG: process.env.RUST_LOG ?? 'warn',
  };
}

async function waitHealthy(url, child, log) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`portal exited with ${child.exitCode}:\n${log.join('')}`);
    try {
      const r = await fetch(`${url}/healthz`);
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`portal did not answer /healthz within 60 s:\n${log.join('')}`);
}

/** `env`: extra `PORTAL_*` variables over the defaults above (e.g. dev login off). */
export async function startPortal({ env: extraEnv = {} } = {}) {
  if (process.env.PORTAL_URL) {
    return {
      url: process.env.PORTAL_URL.replace(/\/$/, ''),
      operator: {
        username: process.env.PORTAL_OPERATOR_USER ?? OPERATOR.username,
        password: process.env.PORTAL_OPERATOR_PASSWORD ?? OPERATOR.password,
      },
      close: async () => {},
    };
  }
  const bin = buildServer();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'portal-journey-'));
  const port = await freePort();
  const env = { ...serverEnv(dataDir, port), ...extraEnv };
  const add = spawnSync(bin, ['operator', 'add', '--username', OPERATOR.username], {
    env, input: `${OPERATOR.password}\n`, encoding: 'utf8',
  });
  if (add.status !== 0) throw new Error(`portal operator add failed:\n${add.stdout}${add.stderr}`);
  const log = [];
  const child = spawn(bin, [], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (d) => log.push(String(d)));
  child.stderr.on('data', (d) => log.push(String(d)));
  const url = `http://127.0.0.1:${port}`;
  await waitHealthy(url, child, log);
  return {
    url,
    operator: OPERATOR,
    log,
    close: async () => {
      child.kill('SIGTERM');
      await new Promise((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', resolve)));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
