// A throw-away CA with the openssl CLI, for the fake API: issues leaf certificates for CSRs
// made in the browser and a CRL. The real server's CA is tested against the real server.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export function openssl(args, { cwd, input } = {}) {
  const r = spawnSync('openssl', args, { cwd, input, encoding: 'utf8' });
  if (r.error?.code === 'ENOENT') throw new Error('openssl not found: apt-get install openssl');
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed:\n${r.stdout}${r.stderr}`);
  return `${r.stdout}${r.stderr}`;
}

const CNF = `[ca]
default_ca = fake
[fake]
dir = .
database = index.txt
crlnumber = crlnumber
default_md = sha256
default_crl_days = 7
[leaf]
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
`;

export class FakeCa {
  constructor() {
    this.dir = mkdtempSync(path.join(tmpdir(), 'portal-app-ca-'));
    this.serial = 0x5000n;
    const cwd = this.dir;
    writeFileSync(path.join(cwd, 'ca.cnf'), CNF);
    writeFileSync(path.join(cwd, 'index.txt'), '');
    writeFileSync(path.join(cwd, 'crlnumber'), '01\n');
    openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '30', '-sha256', '-subj', '/C=TW/O=Fake Portal/CN=Fake Portal CA',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], { cwd });
    this.pem = readFileSync(path.join(cwd, 'ca.pem'), 'utf8');
  }

  /** Issues a certificate for the CSR; returns { pem, serialHex, notBefore, notAfter }. */
  issue(csrPem) {
    const cwd = this.dir;
    const n = this.serial++;
    writeFileSync(path.join(cwd, 'req.csr'), csrPem);
    openssl(['req', '-in', 'req.csr', '-verify', '-noout'], { cwd });
    openssl(['x509', '-req', '-in', 'req.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', `0x${n.toString(16)}`,
      '-days', '365', '-sha256', '-extfile', 'ca.cnf', '-extensions', 'leaf', '-out', 'leaf.pem'], { cwd });
    const pem = readFileSync(path.join(cwd, 'leaf.pem'), 'utf8');
    const now = new Date();
    return {
      pem,
      serialHex: n.toString(16),
      notBefore: now.toISOString().replace(/\.\d+Z$/, 'Z'),
      notAfter: new Date(now.getTime() + 365 * 86400e3).toISOString().replace(/\.\d+Z$/, 'Z'),
    };
  }

  /** A company's IC-card certificate (RSA) with the tax ID as subject serialNumber. */
  issueCard(taxId) {
    const cwd = this.dir;
    openssl(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'card.key', '-out', 'card.csr',
      '-subj', `/C=TW/O=Card Test Co/serialNumber=${taxId}/CN=Card Test Co`], { cwd });
    const c = this.issue(readFileSync(path.join(cwd, 'card.csr'), 'utf8'));
    return { certPem: c.pem, keyPem: readFileSync(path.join(cwd, 'card.key'), 'utf8') };
  }

  /** Marks `serialHex` revoked (`reason` e.g. certificateHold) or, with null, valid again. */
  setRevoked(serialHex, reason) {
    this.revoked ??= new Map();
    if (reason === null) this.revoked.delete(serialHex);
    else this.revoked.set(serialHex, reason);
    const t = (d) => d.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';
    const later = new Date(Date.now() + 365 * 86400e3);
    const hex = (h) => (h.length % 2 ? `0${h}` : h).toUpperCase();
    const lines = [...this.revoked].map(([s, r]) => `R\t${t(later)}\t${t(new Date())}${r === 'unspecified' ? '' : `,${r}`}\t${hex(s)}\tunknown\t/CN=x\n`);
    writeFileSync(path.join(this.dir, 'index.txt'), lines.join(''));
  }

  crlDer() {
    const cwd = this.dir;
    openssl(['ca', '-config', 'ca.cnf', '-gencrl', '-keyfile', 'ca.key', '-cert', 'ca.pem', '-out', 'crl.pem'], { cwd });
    openssl(['crl', '-in', 'crl.pem', '-outform', 'DER', '-out', 'crl.der'], { cwd });
    return readFileSync(path.join(cwd, 'crl.der'));
  }

  cleanup() {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
