// card-bridge popup (HiPKI popupForm protocol). Opened by an allowed portal with
// window.open; says {"func":"getTbs"} to its opener, takes one request by postMessage,
// runs it against the bridge (same origin) and posts the JSON answer back, then closes.
//
// Security: requests are taken only from the opener window and only from the configured
// origins; answers go only to the origin that asked (never "*"). Nothing is logged: the
// request carries the PIN.
'use strict';

(() => {
  const config = JSON.parse(document.getElementById('bridge-config').textContent);
  const allowed = new Set(config.allowedOrigins);
  const statusLine = document.getElementById('status');
  const detailLine = document.getElementById('detail');
  const say = (text, detail) => {
    statusLine.textContent = text;
    detailLine.textContent = detail || '';
  };
  let busy = false;

  const failure = (func, retCode, message) =>
    JSON.stringify({ func, ret_code: retCode, last_error: 0, message });

  async function run(origin, data) {
    let request = data;
    if (typeof data === 'string') {
      try {
        request = JSON.parse(data);
      } catch (_) {
        return failure('sign', 0x7600000b, 'JSON格式錯誤');
      }
    }
    if (!request || typeof request !== 'object') {
      return failure('sign', 0x7600000b, 'JSON格式錯誤');
    }
    const func = request.func;
    if (func === 'GetUserCert' || func === 'CheckEnvir') {
      const url = func === 'GetUserCert' ? '/pkcs11info?withcert=true' : '/pkcs11info';
      const response = await fetch(url, { cache: 'no-store' });
      return response.text();
    }
    if (func === 'MakeSignature') {
      const tbsPackage = typeof data === 'string' ? data : JSON.stringify(data);
      const body = new URLSearchParams({ tbsPackage, portal: origin });
      const response = await fetch('/sign', { method: 'POST', body, cache: 'no-store' });
      return response.text();
    }
    return failure(String(func), 0x7600000e, '不支援的方法');
  }

  window.addEventListener('message', async (event) => {
    if (busy || event.source !== window.opener || !allowed.has(event.origin)) {
      return;
    }
    busy = true;
    const origin = event.origin;
    say('處理中，請勿移除卡片… / Working, keep the card in the reader…', origin);
    let answer;
    try {
      answer = await run(origin, event.data);
    } catch (_) {
      answer = failure('sign', 0x7600000d, '執行檔錯誤或逾時');
    }
    window.opener.postMessage(answer, origin);
    say('完成 / Done');
    window.close();
  });

  if (!window.opener) {
    say('請由網站開啟此視窗。 / Open this window from the portal.');
    return;
  }
  // We cannot read the opener's origin, so offer to each allowed one: the browser delivers
  // the message only if the opener really is at that origin.
  const ready = JSON.stringify({ func: 'getTbs' });
  for (const origin of allowed) {
    try {
      window.opener.postMessage(ready, origin);
    } catch (_) {
      // The opener went away; nothing to do.
    }
  }
  setTimeout(() => {
    if (!busy) {
      say('沒有已授權的網站回應。 / No allowed site answered.', [...allowed].join(' '));
    }
  }, 10000);
})();
