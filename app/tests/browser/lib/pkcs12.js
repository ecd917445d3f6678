// Checks on the downloaded files with the openssl CLI (OpenSSL 3).

import { writeFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { openssl } from './ca.js';

/**
 * Opens the .pfx with the password (no -legacy: the compatible profile must open in
 * OpenSSL 3 as is), checks the leaf chains to `caPem`, that the .cer is the same
 * certificate, and that the key inside is `pkcs8` (same RSA modulus). Returns details.
 */
export function checkDownloads(dir, { pfx, cer, password, caPem, pkcs8 }) {
  const cwd = dir;
  writeFileSync(path.join(dir, 'ca.pem'), caPem);
  const all = openssl(['pkcs12', '-in', pfx, '-passin', `pass:${password}`, '-nodes'], { cwd });
  if (!all.includes('PRIVATE KEY')) throw new Error('the .pfx holds no private key');
  openssl(['pkcs12', '-in', pfx, '-passin', `pass:${password}`, '-nokeys', '-clcerts', '-out', 'leaf.pem'], { cwd });
  openssl(['pkcs12', '-in', pfx, '-passin', `pass:${password}`, '-nocerts', '-nodes', '-out', 'key.pem'], { cwd });
  const verify = openssl(['verify', '-CAfile', 'ca.pem', 'leaf.pem'], { cwd });
  openssl(['x509', '-in', cer, '-inform', 'DER', '-out', 'cer.pem'], { cwd });
  const leafDer = openssl(['x509', '-in', 'leaf.pem', '-noout', '-fingerprint', '-sha256'], { cwd });
  const cerDer = openssl(['x509', '-in', 'cer.pem', '-noout', '-fingerprint', '-sha256'], { cwd });
  const modulus = (args) => openssl(['rsa', ...args, '-noout', '-modulus'], { cwd }).trim();
  let keyMatches = null;
  if (pkcs8) {
    writeFileSync(path.join(dir, 'vault.der'), pkcs8);
    keyMatches = modulus(['-in', 'key.pem']) === modulus(['-inform', 'DER', '-in', 'vault.der']);
  }
  const certModulus = openssl(['x509', '-in', 'leaf.pem', '-noout', '-modulus'], { cwd }).trim();
  const info = openssl(['pkcs12', '-in', pfx, '-passin', `pass:${password}`, '-info', '-noout'], { cwd });
  const wrong = (() => {
    try {
      openssl(['pkcs12', '-in', pfx, '-passin', 'pass:wrong-password', '-nodes'], { cwd });
      return false;
    } catch {
      return true;
    }
  })();
  return {
    verify: verify.trim(),
    sameCertificate: leafDer === cerDer,
    keyMatches,
    keyMatchesCert: modulus(['-in', 'key.pem']) === certModulus,
    info,
    wrongPasswordRefused: wrong,
    leafPem: readFileSync(path.join(dir, 'leaf.pem'), 'utf8'),
  };
}
