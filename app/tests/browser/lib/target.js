// Which portal the journey tests drive: the real server (default), or the in-memory fake
// with PORTAL_TEST_TARGET=fake (only to develop the app while the server changes).

import { startPortal } from './portal.js';
import { startFakePortal } from './fake-portal.js';
import { DIST } from './shots.js';

export async function startTarget() {
  if (process.env.PORTAL_TEST_TARGET === 'fake') {
    const p = await startFakePortal(DIST);
    return { ...p, fake: true };
  }
  return { ...(await startPortal()), fake: false };
}
