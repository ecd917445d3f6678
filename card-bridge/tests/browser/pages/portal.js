// A stand-in for the portal's login page: opens the bridge's /popupForm and speaks the
// HiPKI postMessage protocol with it, as a real portal would. Parameters come from the
// query string (no inline script: the page runs under a strict CSP).
//   bridge   bridge base URL         tbs, pin   what to sign
//   blind=1  also post the request to the popup without waiting for getTbs (an attacker)
//   timeout  ms before giving up (default 15000)
'use strict';

const params = new URLSearchParams(location.search);
const bridge = params.get('bridge');
const bridgeOrigin = new URL(bridge).origin;
window.__messages = [];
window.__result = null;

const show = (text) => {
  window.__result = text;
  document.getElementById('result').textContent = text;
};

function hipki(request) {
  return new Promise((resolve) => {
    const popup = window.open(`${bridge}/popupForm`, 'hipki', 'width=420,height=320');
    if (!popup) {
      resolve('popup-blocked');
      return;
    }
    let ready = false;
    const timer = setTimeout(() => resolve('timeout'), Number(params.get('timeout') || 15000));
    window.addEventListener('message', (event) => {
      window.__messages.push({ origin: event.origin, data: String(event.data) });
      if (event.origin !== bridgeOrigin || event.source !== popup) return;
      const message = JSON.parse(event.data);
      if (!ready && message.func === 'getTbs') {
        ready = true;
        popup.postMessage(JSON.stringify(request), bridgeOrigin);
        return;
      }
      if (ready) {
        clearTimeout(timer);
        resolve(event.data);
      }
    });
    if (params.get('blind') === '1') {
      setTimeout(() => popup.postMessage(JSON.stringify(request), '*'), 1500);
    }
  });
}

document.getElementById('sign').addEventListener('click', async () => {
  show('');
  show(
    await hipki({
      func: 'MakeSignature',
      tbs: params.get('tbs'),
      tbsEncoding: 'NONE',
      hashAlgorithm: 'SHA256',
      pin: params.get('pin'),
      nonce: '',
      withCardSN: 'true',
      signatureType: 'PKCS1',
    }),
  );
});

document.getElementById('info').addEventListener('click', async () => {
  show('');
  try {
    const response = await fetch(`${bridge}/pkcs11info?withcert=true`);
    show(await response.text());
  } catch (e) {
    show(`fetch-failed: ${e.name}`);
  }
});
