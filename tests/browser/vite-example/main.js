// Another portal's page: the keygen package as installed from npm, bundled by Vite. The key
// is made here, only the CSR goes to the server (POST /api/csr answers the certificate), and
// the .pfx is packed here.
import { init, generateKey, signCsr, buildPfx, validatePassword, KeyVault, KeygenError } from '@customs-portal/keygen';

const log = (s) => (document.getElementById('log').textContent += `${s}\n`);

async function sendCsrToYourCa(csrPem) {
  const r = await fetch('/api/csr', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: csrPem });
  if (!r.ok) throw new Error(`CA answered HTTP ${r.status}`);
  return r.json(); // { certificate_pem, chain_pem: [issuing CA, root] }
}

async function run(backend) {
  try {
    await init();
    validatePassword('Secret123', 'Secret123');
    const key = await generateKey({ algorithm: { kind: 'rsa', bits: 2048 }, backend, onPhase: (p) => log(`phase: ${p}`) });
    const vault = await KeyVault.open({ owner: '12345675' });
    await vault.put('SW20261124000001', key, { certName: 'SingleWindow-01-B00051' });
    const csr = await signCsr(key, { cn: 'SingleWindow-01-B00051', o: 'Example Co', c: 'TW', serialNumber: '12345675' });
    log(`csr: ${csr.der.length} bytes`);
    const issued = await sendCsrToYourCa(csr.pem);
    const pfx = buildPfx({
      pkcs8: key.pkcs8,
      certificate: issued.certificate_pem,
      chain: issued.chain_pem,
      password: 'Secret123',
      friendlyName: 'SingleWindow-01-B00051',
    });
    await vault.delete('SW20261124000001');
    vault.close();
    window.result = { backend: key.backend, csr: csr.pem, pfx: btoa(String.fromCharCode(...pfx)) };
    log(`pfx: ${pfx.length} bytes (${key.backend})`);
  } catch (e) {
    window.result = { error: e instanceof KeygenError ? `${e.code}: ${e.message}` : String(e) };
    log(`failed: ${window.result.error}`);
  }
}

// WebCrypto where the browser has it; the second button forces the Rust/Wasm key generation,
// which runs in the package's worker (bundled by Vite as its own file).
document.getElementById('go').addEventListener('click', () => run('auto'));
document.getElementById('go-rust').addEventListener('click', () => run('rust'));
