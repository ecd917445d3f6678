// A stand-in for the portal server, for UI tests that need no real database: serves dist/
// with the portal's CSP and SPA fallback, and answers the JSON API of docs/API.md from
// memory (CSRs signed by an openssl CA). The full journey runs against the real server
// (lib/portal.js); this one lets the form and layout tests run fast and on their own.

import { createServer } from 'node:http';
import { existsSync, statSync, createReadStream } from 'node:fs';
import { randomBytes, X509Certificate, verify as verifySignature, sign as signData } from 'node:crypto';
import path from 'node:path';
import { FakeCa } from './ca.js';

export const CSP =
  "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; " +
  "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.css': 'text/css; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
};

const OPERATOR = { username: 'op', password: 'op-secret-1' };

function iso(d = new Date()) {
  return d.toISOString().replace(/\.\d+Z$/, 'Z');
}

function taipeiDate(d = new Date()) {
  return new Date(d.getTime() + 8 * 3600e3).toISOString().slice(0, 10);
}

class Store {
  constructor(ca) {
    this.ca = ca;
    this.sessions = new Map();
    this.apps = [];
    this.audit = [];
    this.seq = 0;
    this.billSeq = 150;
    this.registrations = [];
    this.challenges = new Map();
  }

  log(actor, action, app, detail = '') {
    this.audit.push({
      id: this.audit.length + 1, at: iso(), actor, action, application_serial: app?.serial ?? null,
      certificate_serial: app?.certificate?.serial_hex ?? null, csr_sha256: null, detail,
    });
  }

  // The server derives these from its transition table (server/src/domain/transitions.rs).
  actions(a, role = 'applicant') {
    const issuing = a.app_type === 'new' || a.app_type === 'renew';
    if (role === 'operator') {
      if (a.status === '10') return ['record_payment'];
      const c = a.status === 'A0' && issuing ? a.certificate : null;
      if (c?.status === 'valid') return ['revoke', 'suspend'];
      if (c?.status === 'suspended') return ['revoke', 'unsuspend'];
      return [];
    }
    if (a.status === '10') return ['print_slip'];
    if (a.status === '20') return ['generate', 'print_slip'];
    if (a.status !== 'A0' || !issuing || !a.certificate) return [];
    const c = a.certificate;
    const out = ['download'];
    if (c.status === 'valid' && !c.registered) out.push('register');
    if (c.status === 'valid' || c.status === 'suspended') out.push('change');
    if (c.status === 'valid') out.push('renew');
    if (c.status === 'valid') out.push('revoke', 'suspend');
    if (c.status === 'suspended') out.push('revoke', 'unsuspend');
    return out;
  }

  view(a, role = 'applicant') {
    const { csr_pem, cert_pem, staff_national_id, ...rest } = a;
    return {
      ...rest,
      staff_national_id_masked: staff_national_id ? staff_national_id.slice(0, 3) + '*'.repeat(7) : '',
      certificate: a.certificate ? { ...a.certificate } : null,
      actions: this.actions(a, role),
    };
  }

  create(session, f) {
    const fields = [];
    const need = (v, field) => { if (!v || !String(v).trim()) fields.push({ field, code: 'required' }); };
    need(f.company?.name, 'company.name');
    need(f.contact?.name, 'contact.name');
    need(f.contact?.phone, 'contact.phone');
    need(f.contact?.mobile, 'contact.mobile');
    need(f.contact?.email, 'contact.email');
    if (!f.privacy_consent) fields.push({ field: 'privacy_consent', code: 'consent_required' });
    // A rule only the server knows, to exercise server-side field errors in the page.
    if (f.contact?.email?.endsWith('@refused.example')) fields.push({ field: 'contact.email', code: 'not_allowed' });
    let target = null;
    if (f.app_type !== 'new') {
      target = this.apps.find((a) => a.serial === f.target && a.tax_id === session.tax_id);
      if (!target) fields.push({ field: 'target', code: 'required' });
    } else {
      need(f.customs_office, 'customs_office');
      need(f.business_type, 'business_type');
      need(f.box_number, 'box_number');
      need(f.cert_kind, 'cert_kind');
    }
    if (fields.length) return { status: 422, body: { error: { code: 'validation_failed', message: 'invalid fields', fields } } };
    const now = new Date();
    const serial = `SW${taipeiDate(now).replaceAll('-', '')}${String(++this.seq).padStart(6, '0')}`;
    const base = target ?? f;
    const a = {
      serial, tax_id: session.tax_id, app_type: f.app_type, status: '10', created_at: iso(now), updated_at: iso(now),
      target: target?.serial ?? null, company: f.company, contact: f.contact,
      customs_office: base.customs_office, business_type: base.business_type, box_number: base.box_number,
      cert_kind: base.cert_kind, staff_code: base.staff_code ?? '', staff_national_id: base.staff_national_id ?? '',
      cert_name: null, reason: f.reason ?? '', bill: null, certificate: null,
    };
    if (f.app_type === 'new' || f.app_type === 'renew') {
      const n = this.apps.filter((x) => x.tax_id === a.tax_id && x.box_number === a.box_number && x.cert_name).length + 1;
      a.cert_name = `SingleWindow-${String(n).padStart(2, '0')}-${a.box_number}`;
      const roc = now.getFullYear() - 1911;
      const due = new Date(now.getTime() + 14 * 86400e3);
      a.bill = { bill_no: `AAF${roc}${String(now.getMonth() + 1).padStart(2, '0')}${String(++this.billSeq).padStart(6, '0')}`,
        amount: 2000, due_at: iso(due), status: 'unpaid', paid_at: null };
    } else {
      a.status = 'A0';
      const c = target.certificate;
      if (f.app_type === 'modify') { target.company = f.company; target.contact = f.contact; }
      if (c && f.app_type === 'revoke') c.status = 'revoked';
      if (c && f.app_type === 'suspend') c.status = 'suspended';
      if (c && f.app_type === 'unsuspend') c.status = 'valid';
      if (c && f.app_type !== 'modify') {
        this.ca.setRevoked(c.serial_hex, { revoke: 'unspecified', suspend: 'certificateHold', unsuspend: null }[f.app_type]);
      }
    }
    this.apps.unshift(a);
    this.log(session.display_name, `application.${f.app_type}`, a);
    return { status: 201, body: this.view(a) };
  }
}

function parseCookies(h = '') {
  return Object.fromEntries(h.split(';').map((p) => p.trim().split('=')).filter((p) => p.length === 2));
}

/**
 * Starts the fake on 127.0.0.1 (ephemeral port). `requests` records every request with its
 * body, like the real-server harness, so tests can inspect what the page sent.
 */
export async function startFakePortal(dist) {
  const ca = new FakeCa();
  const store = new Store(ca);

  // Errors a test asks for: the next `METHOD /path` answers with it instead.
  const failures = new Map();
  const json = (res, status, body, headers = {}) => {
    res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
    res.end(body === undefined ? '' : JSON.stringify(body));
  };
  const err = (res, status, code, message = code) => json(res, status, { error: { code, message } });

  function api(req, res, url, body) {
    const cookies = parseCookies(req.headers.cookie);
    const session = store.sessions.get(cookies.sw_session);
    const p = url.pathname;
    const method = req.method;
    const isLogin = p.startsWith('/api/auth/') && p !== '/api/auth/logout';
    if (method !== 'GET') {
      if (isLogin) {
        if (req.headers['x-requested-with'] !== 'portal') return err(res, 403, 'csrf');
      } else if (!session || req.headers['x-csrf-token'] !== session.csrf_token) {
        return session ? err(res, 403, 'csrf') : err(res, 401, 'unauthenticated');
      }
    }
    const failure = failures.get(`${method} ${p}`);
    if (failure) {
      failures.delete(`${method} ${p}`);
      return json(res, failure.status, { error: { code: failure.code, message: failure.message } });
    }
    const data = () => (body.length ? JSON.parse(body.toString('utf8')) : {});
    const login = (s) => {
      const id = randomBytes(16).toString('hex');
      const view = { ...s, csrf_token: randomBytes(16).toString('hex'), expires_at: iso(new Date(Date.now() + 3600e3)) };
      store.sessions.set(id, view);
      json(res, 200, view, { 'Set-Cookie': `sw_session=${id}; Path=/; HttpOnly; SameSite=Strict` });
    };
    if (p === '/api/session' && method === 'GET') {
      // The fake always offers the development login, as the real server says it.
      res.setHeader('X-Portal-Dev-Login', 'on');
      return session ? json(res, 200, session) : err(res, 401, 'unauthenticated');
    }
    if (p === '/api/auth/dev-login' && method === 'POST') {
      const d = data();
      // Applicants only, as the real server.
      if (d.role !== 'applicant') return err(res, 403, 'forbidden');
      return login({ role: 'applicant', tax_id: d.tax_id, display_name: d.display_name || d.tax_id, dev_login: true });
    }
    if (p === '/api/auth/operator-login' && method === 'POST') {
      const d = data();
      if (d.username !== OPERATOR.username || d.password !== OPERATOR.password) return err(res, 401, 'unauthenticated');
      return login({ role: 'operator', tax_id: null, display_name: d.username, operator_role: 'admin' });
    }
    if (p === '/api/auth/card/challenge' && method === 'POST') {
      const c = { challenge_id: randomBytes(8).toString('hex'), tbs: `portal-login:${randomBytes(16).toString('hex')}`,
        hash_algorithm: 'SHA256', expires_at: iso(new Date(Date.now() + 300e3)) };
      store.challenges.set(c.challenge_id, c.tbs);
      return json(res, 200, c);
    }
    if (p === '/api/auth/card/login' && method === 'POST') {
      const d = data();
      const tbs = store.challenges.get(d.challenge_id);
      store.challenges.delete(d.challenge_id);
      let cert;
      try {
        cert = new X509Certificate(Buffer.from(d.certificate_b64 ?? '', 'base64'));
      } catch {
        return err(res, 401, 'unauthenticated');
      }
      const ok = tbs && cert.verify(new X509Certificate(ca.pem).publicKey)
        && verifySignature('sha256', Buffer.from(tbs), cert.publicKey, Buffer.from(d.signature_b64 ?? '', 'base64'));
      if (!ok) return err(res, 401, 'unauthenticated');
      const taxId = /serialNumber=(\d{8})/.exec(cert.subject)?.[1];
      return login({ role: 'applicant', tax_id: taxId, display_name: 'Card Test Co' });
    }
    if (p === '/api/auth/logout' && method === 'POST') {
      store.sessions.delete(cookies.sw_session);
      res.writeHead(204, { 'Set-Cookie': 'sw_session=; Path=/; Max-Age=0' });
      return res.end();
    }
    if (!session) return err(res, 401, 'unauthenticated');
    const admin = p.startsWith('/api/admin/');
    if (admin !== (session.role === 'operator')) return err(res, 403, 'forbidden');

    const filter = (list) => list.filter((a) => {
      const q = url.searchParams;
      const day = taipeiDate(new Date(a.created_at));
      return (!q.get('from') || day >= q.get('from')) && (!q.get('to') || day <= q.get('to'))
        && (!q.get('app_type') || a.app_type === q.get('app_type')) && (!q.get('status') || a.status === q.get('status'))
        && (!q.get('tax_id') || a.tax_id === q.get('tax_id'))
        && (!q.get('q') || [a.serial, a.bill?.bill_no, a.certificate?.serial_hex].includes(q.get('q')));
    });
    const own = (serial) => store.apps.find((a) => a.serial === serial && (admin || a.tax_id === session.tax_id));
    let m;
    if (p === '/api/applications' && method === 'GET') {
      // Newest first, one page (the server's offset paging and clamping).
      const rows = filter(store.apps.filter((a) => a.tax_id === session.tax_id));
      const sizes = [10, 20, 50, 100];
      const asked = Number(url.searchParams.get('page_size'));
      const pageSize = sizes.includes(asked) ? asked : 10;
      const pages = Math.max(1, Math.ceil(rows.length / pageSize));
      const pageNo = Math.min(Math.max(1, Number(url.searchParams.get('page')) || 1), pages);
      const items = rows.slice((pageNo - 1) * pageSize, pageNo * pageSize).map((a) => store.view(a));
      return json(res, 200, { items, page: pageNo, page_size: pageSize, total: rows.length });
    }
    if (p === '/api/applications' && method === 'POST') {
      const r = store.create(session, data());
      return json(res, r.status, r.body);
    }
    if ((m = p.match(/^\/api\/applications\/([^/]+)(\/.*)?$/))) {
      const a = own(decodeURIComponent(m[1]));
      if (!a) return err(res, 404, 'not_found');
      const sub = m[2] ?? '';
      if (sub === '' && method === 'GET') return json(res, 200, store.view(a));
      if (sub === '/slip' && method === 'GET') {
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
        return res.end(`<!doctype html><title>slip</title><h1>${a.bill?.bill_no ?? ''}</h1><p>NT$${a.bill?.amount ?? 0}</p>`);
      }
      const issued = () => ({
        application_serial: a.serial, serial_hex: a.certificate.serial_hex, cert_name: a.cert_name,
        certificate_pem: a.cert_pem, chain_pem: [ca.pem], not_before: a.certificate.not_before, not_after: a.certificate.not_after,
      });
      if (sub === '/csr' && method === 'POST') {
        const { csr_pem } = data();
        if (a.status === 'A0' && a.cert_pem) {
          return a.csr_pem === csr_pem ? json(res, 200, issued()) : err(res, 409, 'conflict');
        }
        if (a.status !== '20') return err(res, 409, 'invalid_transition');
        let c;
        try {
          c = ca.issue(csr_pem);
        } catch (e) {
          return err(res, 422, 'bad_csr', String(e.message).split('\n')[0]);
        }
        a.csr_pem = csr_pem;
        a.cert_pem = c.pem;
        a.certificate = { serial_hex: c.serialHex, cert_name: a.cert_name, subject: new X509Certificate(c.pem).subject,
          not_before: c.notBefore, not_after: c.notAfter, status: 'valid', registered: false };
        a.status = 'A0';
        a.updated_at = iso();
        store.log(session.display_name, 'certificate.issue', a);
        return json(res, 200, issued());
      }
      if (sub === '/certificate' && method === 'GET') return a.cert_pem ? json(res, 200, issued()) : err(res, 404, 'not_found');
      if (sub === '/certificate.cer' && method === 'GET') {
        if (!a.cert_pem) return err(res, 404, 'not_found');
        res.writeHead(200, { 'Content-Type': 'application/pkix-cert', 'Content-Disposition': `attachment; filename="${a.cert_name}.cer"` });
        return res.end(new X509Certificate(a.cert_pem).raw);
      }
    }
    if (p === '/api/registrations' && method === 'POST') {
      const d = data();
      const der = Buffer.from(d.cer_der_b64 ?? '', 'base64');
      const a = store.apps.find((x) => x.cert_pem && x.tax_id === session.tax_id
        && new X509Certificate(x.cert_pem).raw.equals(der));
      if (!a) return err(res, 422, 'bad_certificate', 'not a certificate of this CA for this company');
      a.certificate.registered = true;
      const r = { serial_hex: a.certificate.serial_hex, application_serial: a.serial, staff_name: d.staff_name,
        customs_office: d.customs_office, broker_code: d.broker_code, registered_at: iso() };
      store.registrations.push(r);
      store.log(session.display_name, 'certificate.register', a);
      return json(res, 201, r);
    }
    if (p === '/api/admin/applications' && method === 'GET') {
      // The operator grid's page and counts (server/src/domain/admin_grid.rs), newest first.
      const q = url.searchParams;
      const rows = filter(store.apps).reverse();
      const size = [10, 20, 50, 100].includes(Number(q.get('page_size'))) ? Number(q.get('page_size')) : 10;
      const pages = Math.max(1, Math.ceil(rows.length / size));
      const page = Math.min(Math.max(1, Number(q.get('page') ?? 1) || 1), pages);
      // Counts under the filter without its status: pretend each row has the asked status.
      const all = store.apps.filter((a) => filter([{ ...a, status: q.get('status') ?? a.status }]).length === 1);
      const counts = ['10', '20', 'A0', 'A9'].map((status) => ({ status, count: all.filter((a) => a.status === status).length }));
      return json(res, 200, {
        items: rows.slice((page - 1) * size, page * size).map((a) => store.view(a, 'operator')),
        page, page_size: size, total: rows.length, counts,
      });
    }
    if (p === '/api/admin/payments' && method === 'POST') {
      const d = data();
      const a = store.apps.find((x) => x.bill?.bill_no === d.bill_no);
      if (!a || a.bill.status !== 'unpaid' || d.amount !== a.bill.amount) return err(res, 422, 'payment_rejected', 'unknown bill or wrong amount');
      a.bill.status = 'paid';
      a.bill.paid_at = iso();
      a.status = '20';
      store.log(session.display_name, 'payment.record', a);
      return json(res, 200, store.view(a, 'operator'));
    }
    if (p === '/api/admin/reconciliation' && method === 'POST') {
      const lines = body.toString('utf8').split(/\r?\n/).map((l, i) => [i + 1, l.trim()]).filter(([, l]) => l && !l.startsWith('bill_no'));
      const report = { rows: lines.length, applied: [], already_paid: [], errors: [] };
      const todo = [];
      for (const [line, l] of lines) {
        const [bill_no, amount] = l.split(',');
        const a = store.apps.find((x) => x.bill?.bill_no === bill_no);
        if (!a) report.errors.push({ line, bill_no, code: 'unknown_bill', message: 'no such bill number' });
        else if (Number(amount) !== a.bill.amount) report.errors.push({ line, bill_no, code: 'wrong_amount', message: `wrong amount: the bill is for NT$${a.bill.amount}` });
        else if (a.bill.status === 'paid') report.already_paid.push(bill_no);
        else todo.push(a);
      }
      // As the server sends it (server/src/error.rs): the report inside the error body.
      if (report.errors.length) {
        return json(res, 422, { error: { code: 'payment_rejected', message: 'file refused', report } });
      }
      for (const a of todo) { a.bill.status = 'paid'; a.bill.paid_at = iso(); a.status = '20'; report.applied.push(a.bill.bill_no); }
      return json(res, 200, report);
    }
    if ((m = p.match(/^\/api\/admin\/certificates\/([0-9a-f]+)\/(revoke|suspend|unsuspend)$/)) && method === 'POST') {
      const a = store.apps.find((x) => x.certificate?.serial_hex === m[1]);
      if (!a) return err(res, 404, 'not_found');
      a.certificate.status = { revoke: 'revoked', suspend: 'suspended', unsuspend: 'valid' }[m[2]];
      ca.setRevoked(m[1], { revoke: 'unspecified', suspend: 'certificateHold', unsuspend: null }[m[2]]);
      store.log(session.display_name, `certificate.${m[2]}`, a, data().reason ?? '');
      return json(res, 200, a.certificate);
    }
    if (p === '/api/admin/audit' && method === 'GET') {
      const before = Number(url.searchParams.get('before_id') ?? Infinity);
      const limit = Number(url.searchParams.get('limit') ?? 50);
      return json(res, 200, [...store.audit].reverse().filter((e) => e.id < before).slice(0, limit));
    }
    if (p === '/api/admin/mail' && method === 'GET') return json(res, 200, []);
    return err(res, 404, 'not_found');
  }

  const requests = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const url = new URL(req.url, 'http://127.0.0.1');
      requests.push({ method: req.method, path: url.pathname, body });
      res.setHeader('Content-Security-Policy', CSP);
      res.setHeader('X-Content-Type-Options', 'nosniff');
      res.setHeader('Referrer-Policy', 'no-referrer');
      res.setHeader('Cache-Control', 'no-store');
      try {
        if (url.pathname.startsWith('/api/')) return api(req, res, url, body);
        if (url.pathname === '/ca.pem') return void res.writeHead(200, { 'Content-Type': 'application/x-pem-file' }).end(ca.pem);
        if (url.pathname === '/crl/ca.crl') return void res.writeHead(200, { 'Content-Type': 'application/pkix-crl' }).end(ca.crlDer());
        if (url.pathname === '/healthz') return void res.writeHead(200).end('ok');
        let file = path.resolve(dist, '.' + decodeURIComponent(url.pathname));
        if (!file.startsWith(path.resolve(dist))) return void res.writeHead(403).end();
        if (!existsSync(file) || statSync(file).isDirectory()) file = path.join(dist, 'index.html'); // SPA fallback
        res.writeHead(200, { 'Content-Type': MIME[path.extname(file)] ?? 'application/octet-stream' });
        createReadStream(file).pipe(res);
      } catch (e) {
        json(res, 500, { error: { code: 'internal', message: String(e) } });
      }
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    requests,
    store,
    operator: OPERATOR,
    caPem: ca.pem,
    ca,
    /** The next `method path` request (after the session checks) answers with this error. */
    failNext: (method, p, status, code, message = '') => failures.set(`${method} ${p}`, { status, code, message }),
    close: async () => {
      await new Promise((resolve) => server.close(resolve));
      ca.cleanup();
    },
  };
}

/**
 * A stand-in for the local card component (card-bridge / HiPKI Local Server): serves
 * /popupForm on its own 127.0.0.1 port and signs MakeSignature requests with a test card
 * key when the PIN is right, like the real popup (same message protocol).
 */
export async function startFakeBridge({ portalOrigin, card, pin }) {
  const page = `<!doctype html><meta charset="utf-8"><title>card</title><p id="s">card</p><script src="/popupForm.js"></script>`;
  const script = `
    const allowed = ${JSON.stringify(portalOrigin)};
    window.addEventListener('message', async (ev) => {
      if (ev.source !== window.opener || ev.origin !== allowed) return;
      const r = await fetch('/sign', { method: 'POST', body: typeof ev.data === 'string' ? ev.data : JSON.stringify(ev.data) });
      window.opener.postMessage(await r.text(), allowed);
      window.close();
    });
    if (window.opener) window.opener.postMessage(JSON.stringify({ func: 'getTbs' }), allowed);`;
  const certb64 = new X509Certificate(card.certPem).raw.toString('base64');
  const requests = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      res.setHeader('Content-Security-Policy', "default-src 'self'; script-src 'self'");
      if (req.url === '/popupForm') return void res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(page);
      if (req.url === '/popupForm.js') return void res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(script);
      if (req.url === '/sign' && req.method === 'POST') {
        const r = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        requests.push(r);
        res.writeHead(200, { 'Content-Type': 'application/json' });
        if (r.func !== 'MakeSignature' || r.signatureType !== 'PKCS1') {
          return void res.end(JSON.stringify({ func: 'sign', ret_code: 1, message: 'unsupported' }));
        }
        if (r.pin !== pin) {
          return void res.end(JSON.stringify({ func: 'sign', ret_code: 1980760070, last_error: -2147483646,
            message: 'IC卡登入失敗', message2: 'PIN碼錯誤，剩餘兩次機會' }));
        }
        const signature = signData('sha256', Buffer.from(r.tbs), card.keyPem).toString('base64');
        return void res.end(JSON.stringify({ func: 'sign', ret_code: 0, last_error: 0, signature, certb64 }));
      }
      res.writeHead(404).end();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    requests,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
