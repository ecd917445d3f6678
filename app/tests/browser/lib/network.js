// What a page load costs on the wire, from Chromium's DevTools protocol: per request the
// bytes received (headers + body as sent, after compression), whether the memory or disk
// cache answered, and the Content-Encoding. Used by tests/assets.test.js and the
// first-visit benchmark.

/** Starts recording on `page`; `throttle` = { downloadKbps, uploadKbps, latencyMs } or none. */
export async function recordNetwork(context, page, { throttle } = {}) {
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  if (throttle) {
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: throttle.latencyMs,
      downloadThroughput: (throttle.downloadKbps * 1000) / 8,
      uploadThroughput: (throttle.uploadKbps * 1000) / 8,
    });
  }
  const byId = new Map();
  const entry = (id) => {
    if (!byId.has(id)) byId.set(id, { url: '', bytes: 0, fromCache: false, encoding: undefined, status: 0 });
    return byId.get(id);
  };
  cdp.on('Network.requestWillBeSent', (e) => { entry(e.requestId).url = e.request.url; });
  cdp.on('Network.requestServedFromCache', (e) => { entry(e.requestId).fromCache = true; });
  cdp.on('Network.responseReceived', (e) => {
    const x = entry(e.requestId);
    x.status = e.response.status;
    if (e.response.fromDiskCache || e.response.fromPrefetchCache) x.fromCache = true;
    const h = Object.fromEntries(Object.entries(e.response.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    x.encoding = h['content-encoding'];
  });
  cdp.on('Network.loadingFinished', (e) => { entry(e.requestId).bytes = e.encodedDataLength; });
  return {
    cdp,
    /** The entries so far (and forgets them, so the next visit starts empty). */
    take() {
      const all = [...byId.values()].filter((x) => x.url.startsWith('http'));
      byId.clear();
      return all;
    },
  };
}

export const total = (entries) => entries.reduce((n, x) => n + x.bytes, 0);
