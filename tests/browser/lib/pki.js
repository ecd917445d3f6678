// A throw-away test CA made with the openssl CLI (root + issuing CA), to issue
// certificates for CSRs produced in the browser and to inspect PKCS#12 files.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Runs openssl; returns { ok, output } with stdout and stderr (openssl reports on both). */
export function opensslStatus(args, { cwd, input } = {}) {
  const r = spawnSync('openssl', args, { cwd, input, encoding: 'utf8' });
  if (r.error?.code === 'ENOENT') throw new Error('openssl not found: apt-get install openssl');
  if (r.error) throw r.error;
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

/** Runs openssl and throws with its output if it fails. */
export function openssl(args, opts) {
  const r = opensslStatus(args, opts);
  if (!r.ok) throw new Error(`openssl ${args.join(' ')} failed:\n${r.output}`);
  return r.output;
}

const EXT = `[ca]
basicConstraints=critical,CA:TRUE,pathlen:0
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
[leaf]
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
`;

export class TestCa {
  constructor() {
    this.dir = mkdtempSync(path.join(tmpdir(), 'portal-ca-'));
    this.serial = 0x1000;
    const cwd = this.dir;
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
    writeFileSync(path.join(cwd, 'ext.cnf'), EXT);
    openssl(['req', '-x509', ...ec, '-keyout', 'root.key', '-out', 'root.pem', '-days', '30', '-sha256',
      '-subj', '/C=TW/O=Test Root/CN=Test Root CA',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], { cwd });
    openssl(['req', '-new', ...ec, '-keyout', 'ica.key', '-out', 'ica.csr', '-subj', '/C=TW/O=Test/CN=Test Issuing CA'], { cwd });
    openssl(['x509', '-req', '-in', 'ica.csr', '-CA', 'root.pem', '-CAkey', 'root.key', '-set_serial', '2',
      '-days', '30', '-sha256', '-extfile', 'ext.cnf', '-extensions', 'ca', '-out', 'ica.pem'], { cwd });
    this.chainPem = [this.read('ica.pem'), this.read('root.pem')];
  }

  path(name) {
    return path.join(this.dir, name);
  }

  read(name) {
    return readFileSync(this.path(name), 'utf8');
  }

  write(name, data) {
    writeFileSync(this.path(name), data);
    return this.path(name);
  }

  /** Checks the CSR's self-signature; returns openssl's output. */
  verifyCsr(csrPem) {
    this.write('check.csr', csrPem);
    return openssl(['req', '-in', 'check.csr', '-verify', '-noout'], { cwd: this.dir });
  }

  /** Issues a leaf certificate (PEM) for the CSR from the issuing CA. */
  issue(csrPem) {
    const n = this.serial++;
    this.write(`${n}.csr`, csrPem);
    openssl(['x509', '-req', '-in', `${n}.csr`, '-CA', 'ica.pem', '-CAkey', 'ica.key', '-set_serial', String(n),
      '-days', '30', '-sha256', '-extfile', 'ext.cnf', '-extensions', 'leaf', '-out', `${n}.pem`], { cwd: this.dir });
    return this.read(`${n}.pem`);
  }

  /**
   * Opens a PFX with `openssl pkcs12` (no -legacy). Returns openssl's -info text, the
   * decrypted PEM (bag attributes, certificates, key) and whether key and leaf match.
   */
  inspectPfx(pfxBytes, password, leafPem) {
    const n = this.serial++;
    this.write(`${n}.pfx`, pfxBytes);
    const pass = `pass:${password}`;
    const cwd = this.dir;
    const info = opensslStatus(['pkcs12', '-in', `${n}.pfx`, '-passin', pass, '-info', '-nodes', '-out', `${n}.all.pem`], { cwd });
    if (!info.ok) return { ok: false, info: info.output };
    openssl(['pkcs12', '-in', `${n}.pfx`, '-passin', pass, '-nocerts', '-nodes', '-out', `${n}.key.pem`], { cwd });
    this.write(`${n}.leaf.pem`, leafPem);
    const keyPub = openssl(['pkey', '-in', `${n}.key.pem`, '-pubout'], { cwd });
    const certPub = openssl(['x509', '-in', `${n}.leaf.pem`, '-pubkey', '-noout'], { cwd });
    if (!keyPub.includes('BEGIN PUBLIC KEY')) throw new Error(`no public key from the PFX key: ${keyPub}`);
    return { ok: true, info: info.output, pem: this.read(`${n}.all.pem`), keyMatches: keyPub === certPub };
  }

  /** DER of a PEM certificate, converted by openssl. */
  derOf(pem) {
    const n = this.serial++;
    this.write(`${n}.cert.pem`, pem);
    openssl(['x509', '-in', `${n}.cert.pem`, '-outform', 'DER', '-out', `${n}.cer`], { cwd: this.dir });
    return new Uint8Array(readFileSync(this.path(`${n}.cer`)));
  }

  cleanup() {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
