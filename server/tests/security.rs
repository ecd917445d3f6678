//! Who may call what: sessions, roles, CSRF, login protections, body limits, security
//! headers, static serving, the first-start CA, IC-card login.

// Test helpers outside #[test] fns unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Backend, TestServer, code};
use proto::ErrorCode;
use reqwest::header::{HeaderMap, SET_COOKIE};

const CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
img-src 'self' data:; connect-src 'self' http://127.0.0.1:61161 http://localhost:61161; \
object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

fn assert_security_headers(h: &HeaderMap, what: &str) {
    assert_eq!(h["content-security-policy"], CSP, "{what}");
    assert_eq!(h["x-content-type-options"], "nosniff", "{what}");
    assert_eq!(h["referrer-policy"], "no-referrer", "{what}");
    assert_eq!(
        h["cross-origin-opener-policy"], "same-origin-allow-popups",
        "{what}"
    );
    assert!(h.contains_key("permissions-policy"), "{what}");
}

async fn roles_and_csrf(b: Backend) {
    let srv = TestServer::start(b).await;
    let anon = srv.client();
    let alice = srv.applicant(common::TAX_ID).await;
    let ops = srv.operator().await;

    // No session.
    assert_eq!(
        code(&anon.get_json("/api/session", 401).await),
        ErrorCode::Unauthenticated
    );
    assert_eq!(
        code(&anon.get_json("/api/applications", 401).await),
        ErrorCode::Unauthenticated
    );
    assert_eq!(
        code(
            &anon
                .post_ok("/api/applications", &common::good_form(), 401)
                .await
        ),
        ErrorCode::Unauthenticated
    );
    assert_eq!(
        code(&anon.get_json("/api/admin/applications", 401).await),
        ErrorCode::Unauthenticated
    );

    // Wrong role.
    for path in [
        "/api/admin/applications",
        "/api/admin/audit",
        "/api/admin/mail",
    ] {
        assert_eq!(
            code(&alice.get_json(path, 403).await),
            ErrorCode::Forbidden,
            "{path}"
        );
    }
    let pay =
        serde_json::json!({"bill_no": "AAF11511000001", "amount": 2000, "paid_on": "2026-01-01"});
    assert_eq!(
        code(&alice.post_ok("/api/admin/payments", &pay, 403).await),
        ErrorCode::Forbidden
    );
    assert_eq!(
        code(&ops.get_json("/api/applications", 403).await),
        ErrorCode::Forbidden
    );
    assert_eq!(
        code(
            &ops.post_ok("/api/applications", &common::good_form(), 403)
                .await
        ),
        ErrorCode::Forbidden
    );

    // The session view.
    let s = alice.get_json("/api/session", 200).await;
    assert_eq!(s["role"], "applicant");
    assert_eq!(s["tax_id"], common::TAX_ID);
    assert_eq!(s["csrf_token"].as_str(), alice.csrf.as_deref());

    // CSRF: missing, wrong, or another session's token.
    let mut no_csrf = alice.clone();
    no_csrf.csrf = None;
    assert_eq!(
        code(
            &no_csrf
                .post_ok("/api/applications", &common::good_form(), 403)
                .await
        ),
        ErrorCode::Csrf
    );
    let mut wrong = alice.clone();
    wrong.csrf = Some("x".repeat(43));
    assert_eq!(
        code(
            &wrong
                .post_ok("/api/applications", &common::good_form(), 403)
                .await
        ),
        ErrorCode::Csrf
    );
    let mut borrowed = alice.clone();
    borrowed.csrf = ops.csrf.clone();
    assert_eq!(
        code(
            &borrowed
                .post_ok("/api/applications", &common::good_form(), 403)
                .await
        ),
        ErrorCode::Csrf
    );
    assert_eq!(
        code(&no_csrf.post_ok("/api/auth/logout", &(), 403).await),
        ErrorCode::Csrf
    );
    assert_eq!(
        common::count(&srv, "SELECT COUNT(*) FROM applications").await,
        0
    );

    // Logout ends the session; the cookie is cleared and no longer works.
    let r = alice.post("/api/auth/logout", &()).await;
    assert_eq!(r.status().as_u16(), 204);
    let cleared = r.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    assert!(
        cleared.starts_with("sw_session=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    assert_eq!(
        code(&alice.get_json("/api/session", 401).await),
        ErrorCode::Unauthenticated
    );
    srv.stop().await;
}
both!(roles_and_csrf);

async fn sessions_rotate_and_expire(b: Backend) {
    let srv = TestServer::start_with(b, |c| {
        c.auth.idle_timeout_minutes = 30;
        c.auth.absolute_timeout_hours = 8;
    })
    .await;
    let mut c = srv.client();
    let r = c
        .http
        .post(srv.url("/api/auth/dev-login"))
        .header("X-Requested-With", "portal")
        .json(&serde_json::json!({"role": "applicant", "tax_id": common::TAX_ID}))
        .send()
        .await
        .unwrap();
    let cookie = r.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("sw_session="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Strict")
            && cookie.contains("Path=/")
    );
    assert!(!cookie.contains("Secure"), "plain-http test server");
    let token = cookie["sw_session=".len()..]
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    // Only the hash is stored.
    let stored = common::count(
        &srv,
        &format!("SELECT COUNT(*) FROM sessions WHERE id_hash = '{token}'"),
    )
    .await;
    assert_eq!(stored, 0);
    assert_eq!(
        common::count(&srv, "SELECT COUNT(*) FROM sessions").await,
        1
    );

    // A new login in the same browser replaces the session.
    c.dev_login("applicant", common::TAX_ID, "").await;
    assert_eq!(
        common::count(&srv, "SELECT COUNT(*) FROM sessions").await,
        1
    );
    let old = reqwest::Client::new()
        .get(srv.url("/api/session"))
        .header("Cookie", format!("sw_session={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(old.status().as_u16(), 401);

    // Activity keeps it alive; 30 idle minutes end it.
    srv.clock.advance(time::Duration::minutes(20));
    c.get_json("/api/session", 200).await;
    srv.clock.advance(time::Duration::minutes(20));
    c.get_json("/api/session", 200).await;
    srv.clock.advance(time::Duration::minutes(31));
    assert_eq!(
        code(&c.get_json("/api/session", 401).await),
        ErrorCode::Unauthenticated
    );
    assert_eq!(
        common::count(&srv, "SELECT COUNT(*) FROM sessions").await,
        0
    );

    // The absolute limit holds even for an active user.
    c.dev_login("applicant", common::TAX_ID, "").await;
    for _ in 0..16 {
        srv.clock.advance(time::Duration::minutes(29));
        c.get_json("/api/session", 200).await;
    }
    srv.clock.advance(time::Duration::minutes(29));
    assert_eq!(c.get("/api/session").await.status().as_u16(), 401);
    srv.stop().await;
}
both!(sessions_rotate_and_expire);

async fn login_protections(b: Backend) {
    let srv = TestServer::start(b).await;
    server::auth::operators::add(
        &srv.state.svc.db,
        "alice.ops",
        "correct horse battery",
        proto::OperatorRole::Admin,
        srv.now(),
    )
    .await
    .unwrap();
    assert!(
        server::auth::operators::add(
            &srv.state.svc.db,
            "alice.ops",
            "another long password",
            proto::OperatorRole::Admin,
            srv.now()
        )
        .await
        .is_err()
    );
    let http = reqwest::Client::new();
    let login = |user: &str, pw: &str| {
        http.post(srv.url("/api/auth/operator-login"))
            .header("X-Requested-With", "portal")
            .json(&serde_json::json!({"username": user, "password": pw}))
    };

    // Login endpoints need the custom header and, when sent, our own Origin.
    let r = http
        .post(srv.url("/api/auth/operator-login"))
        .json(&serde_json::json!({"username": "alice.ops", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    assert_eq!(code(&r.json().await.unwrap()), ErrorCode::Csrf);
    let r = login("alice.ops", "correct horse battery")
        .header("Origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let r = login("alice.ops", "correct horse battery")
        .header("Origin", srv.base.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let s: serde_json::Value = r.json().await.unwrap();
    assert_eq!(s["role"], "operator");
    assert_eq!(s["tax_id"], serde_json::Value::Null);

    // Wrong password → 401; five failures lock the account (429 even with the right one).
    for _ in 0..5 {
        let r = login("alice.ops", "wrong").send().await.unwrap();
        assert_eq!(r.status().as_u16(), 401);
        assert_eq!(code(&r.json().await.unwrap()), ErrorCode::Unauthenticated);
    }
    let r = login("alice.ops", "correct horse battery")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 429);
    assert_eq!(code(&r.json().await.unwrap()), ErrorCode::RateLimited);
    // Unknown users fail the same way; the IP limit (20) catches spraying across accounts.
    for i in 0..15 {
        let r = login(&format!("nobody{i}"), "x").send().await.unwrap();
        assert_eq!(r.status().as_u16(), 401, "attempt {i}");
    }
    let r = login("someone.else", "x").send().await.unwrap();
    assert_eq!(r.status().as_u16(), 429);
    // The window passes.
    srv.clock.advance(time::Duration::minutes(16));
    let r = login("alice.ops", "correct horse battery")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    srv.stop().await;
}
both!(login_protections);

async fn dev_and_card_login_are_off_by_default(b: Backend) {
    let srv = TestServer::start_with(b, |c| c.auth.dev_login = false).await;
    let r = reqwest::Client::new()
        .post(srv.url("/api/auth/dev-login"))
        .header("X-Requested-With", "portal")
        .json(&serde_json::json!({"role": "operator", "tax_id": ""}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    assert_eq!(code(&r.json().await.unwrap()), ErrorCode::NotFound);
    let r = reqwest::Client::new()
        .post(srv.url("/api/auth/card/challenge"))
        .header("X-Requested-With", "portal")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    assert!(!server::config::Config::default().auth.dev_login);
    srv.stop().await;
}
both!(dev_and_card_login_are_off_by_default);

async fn body_limits(b: Backend) {
    let srv = TestServer::start(b).await;
    let alice = srv.applicant(common::TAX_ID).await;
    let ops = srv.operator().await;
    let mut form = serde_json::to_value(common::good_form()).unwrap();
    form["reason"] = serde_json::json!("x".repeat(70 * 1024));
    let v = alice.post_ok("/api/applications", &form, 413).await;
    assert_eq!(code(&v), ErrorCode::TooLarge);
    // CSV: up to 1 MiB is read (and here refused line by line); more is too large.
    let line = "AAF99999999999,2000,2026-01-01\n";
    let big = line.repeat(1024 * 1024 / line.len() - 10);
    let r = ops.post_csv("/api/admin/reconciliation", &big).await;
    assert_eq!(r.status().as_u16(), 422);
    let v: serde_json::Value = r.json().await.unwrap();
    let report = &v["error"]["report"];
    let total = 1024 * 1024 / line.len() - 10;
    // The first line is refused as unknown, the rest as duplicates: listed up to the cap.
    assert_eq!(
        report["errors"].as_array().unwrap().len(),
        proto::api::IMPORT_ERRORS_LISTED
    );
    assert_eq!(
        report["errors_not_listed"].as_u64().unwrap() as usize,
        total - proto::api::IMPORT_ERRORS_LISTED
    );
    let r = ops
        .post_csv(
            "/api/admin/reconciliation",
            &line.repeat(1024 * 1024 / line.len() + 10),
        )
        .await;
    assert_eq!(r.status().as_u16(), 413);
    assert_eq!(code(&r.json().await.unwrap()), ErrorCode::TooLarge);
    srv.stop().await;
}
both!(body_limits);

#[tokio::test]
async fn headers_static_files_and_spa_fallback() {
    let srv = TestServer::start(Backend::Sqlite).await;
    let web = srv.dir.path().join("web");
    std::fs::create_dir_all(web.join("app")).unwrap();
    std::fs::write(
        web.join("index.html"),
        "<!DOCTYPE html><title>portal</title>",
    )
    .unwrap();
    std::fs::write(web.join("boot.js"), "import('/app/app.js');").unwrap();
    std::fs::write(web.join("app/app_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
    let http = reqwest::Client::new();

    let r = http.get(srv.url("/healthz")).send().await.unwrap();
    assert_security_headers(r.headers(), "healthz");
    assert_eq!(r.text().await.unwrap(), "ok");
    let r = http.get(srv.url("/api/session")).send().await.unwrap();
    assert_security_headers(r.headers(), "api");
    assert_eq!(r.headers()["cache-control"], "no-store");
    let r = http.get(srv.url("/")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_security_headers(r.headers(), "index");
    assert!(r.text().await.unwrap().contains("<title>portal"));
    // Client-side routes get index.html.
    let r = http.get(srv.url("/apply/new?x=1")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert_security_headers(r.headers(), "spa");
    let r = http.get(srv.url("/app/app_bg.wasm")).send().await.unwrap();
    assert_eq!(r.headers()["content-type"], "application/wasm");
    assert_security_headers(r.headers(), "wasm");
    let r = http.get(srv.url("/boot.js")).send().await.unwrap();
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("javascript")
    );
    // Unknown API paths are JSON 404s, not the app.
    let r = http.get(srv.url("/api/nope")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 404);
    assert_eq!(code(&r.json().await.unwrap()), ErrorCode::NotFound);
    // Path traversal stays inside web_dir.
    let r = http
        .get(srv.url("/..%2f..%2fdata/portal.db"))
        .send()
        .await
        .unwrap();
    let body = r.bytes().await.unwrap();
    assert!(!body.starts_with(b"SQLite format"), "served the database");
    srv.stop().await;
}

/// The login page links here when the local card component does not answer.
#[tokio::test]
async fn card_bridge_download_page() {
    // Without a download URL: build steps only, with this portal's origin to allow.
    let srv = TestServer::start(Backend::Sqlite).await;
    let r = reqwest::get(srv.url("/downloads/card-bridge"))
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_security_headers(r.headers(), "download page");
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = r.text().await.unwrap();
    let origin = srv.config.public_origin();
    assert!(
        html.contains(&format!("card-bridge serve --allow-origin {origin}")),
        "{html}"
    );
    for os in ["Linux", "macOS", "Windows"] {
        assert!(html.contains(&format!("<h3>{os}")), "{os}: {html}");
    }
    assert!(!html.contains("id=\"prebuilt\""), "{html}");
    assert!(!html.contains("<script"), "{html}");
    srv.stop().await;

    // With one: linked, and escaped like any text we put into HTML.
    let srv = TestServer::start_with(Backend::Sqlite, |c| {
        c.auth.card_bridge_download_url = Some("https://dl.example/cb?v=1&os=\"<x>".into());
    })
    .await;
    let html = reqwest::get(srv.url("/downloads/card-bridge"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(
            r#"<a id="prebuilt" href="https://dl.example/cb?v=1&amp;os=&quot;&lt;x&gt;">"#
        ),
        "{html}"
    );
    assert!(!html.contains("<x>"), "{html}");
    srv.stop().await;
}

#[tokio::test]
async fn first_start_creates_the_ca_and_reuses_it() {
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().join("data");
    let dd = data_dir.clone();
    let srv = TestServer::start_with(Backend::Sqlite, move |c| {
        c.ca_cert = None;
        c.ca_key = None;
        c.data_dir = dd;
        c.database_url = None;
    })
    .await;
    let key = data_dir.join("ca.key");
    let cert = data_dir.join("ca.pem");
    assert!(key.is_file() && cert.is_file());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let pem = reqwest::get(srv.url("/ca.pem"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(pem, std::fs::read_to_string(&cert).unwrap());
    let key_pem = std::fs::read_to_string(&key).unwrap();
    assert!(key_pem.contains("PRIVATE KEY"));
    // The key is not reachable over HTTP under any obvious name.
    for p in ["/ca.key", "/data/ca.key", "/api/ca.key"] {
        let body = reqwest::get(srv.url(p))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!body.contains("PRIVATE KEY"), "{p}");
    }
    srv.stop().await;
    let dd = data_dir.clone();
    let again = TestServer::start_with(Backend::Sqlite, move |c| {
        c.ca_cert = None;
        c.ca_key = None;
        c.data_dir = dd;
        c.database_url = None;
    })
    .await;
    let pem2 = reqwest::get(again.url("/ca.pem"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(pem2, pem, "the same CA after a restart");
    again.stop().await;
}

async fn card_login(b: Backend) {
    use card_auth::testing::{CardSpec, CrlServer, TestHash, TestPki};
    let now = time::OffsetDateTime::now_utc();
    // The card's CRL distribution point answers (auth.card_revocation is "require").
    let crls = CrlServer::start().unwrap();
    let pki = TestPki::new_with_crl("Portal Test GRCA", now, &crls.url("grca.crl")).unwrap();
    crls.publish("grca.crl", pki.current_crl(&[], now).unwrap());
    let card = pki.issue_card(&CardSpec::new("04595257", now)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root.pem");
    let int = dir.path().join("int.pem");
    std::fs::write(&root, pki.root.pem()).unwrap();
    std::fs::write(&int, pki.intermediate.pem()).unwrap();
    let srv = TestServer::start_with(b, move |c| {
        c.auth.card_roots = vec![root];
        c.auth.card_intermediates = vec![int];
    })
    .await;
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let challenge = || async {
        let r = http
            .post(srv.url("/api/auth/card/challenge"))
            .header("X-Requested-With", "portal")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        r.json::<proto::api::CardChallenge>().await.unwrap()
    };
    let login = |body: serde_json::Value| {
        http.post(srv.url("/api/auth/card/login"))
            .header("X-Requested-With", "portal")
            .json(&body)
            .send()
    };
    let c = challenge().await;
    let sig = card.sign_b64(c.tbs.as_bytes(), TestHash::Sha256).unwrap();
    let body = serde_json::json!({
        "challenge_id": c.challenge_id, "signature_b64": sig, "certificate_b64": card.cert_b64()
    });
    let r = login(body.clone()).await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let s: proto::api::SessionView = r.json().await.unwrap();
    assert_eq!(s.tax_id.as_deref(), Some("04595257"));
    assert_eq!(s.role, proto::Role::Applicant);
    // A challenge works once.
    assert_eq!(login(body).await.unwrap().status().as_u16(), 401);
    // A signature over something else fails.
    let c = challenge().await;
    let sig = card.sign_b64(b"something else", TestHash::Sha256).unwrap();
    let r = login(serde_json::json!({
        "challenge_id": c.challenge_id, "signature_b64": sig, "certificate_b64": card.cert_b64()
    }))
    .await
    .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert_eq!(code(&r.json().await.unwrap()), ErrorCode::Unauthenticated);
    srv.stop().await;
}
both!(card_login);

/// Issue 17: content-hashed files under /assets/ are cached for a year and sent as their
/// build-time brotli or gzip copy by Accept-Encoding; the page and API answers are never
/// taken from a cache unchecked; a missing hashed file is a 404, never the page.
#[tokio::test]
async fn static_files_compressed_and_cached_by_name() {
    let srv = TestServer::start(Backend::Sqlite).await;
    let web = srv.dir.path().join("web");
    let app = web.join("assets/app-0123456789abcdef");
    std::fs::create_dir_all(&app).unwrap();
    let wasm = app.join("app_bg.wasm");
    std::fs::write(&wasm, b"\0asm\x01\0\0\0 raw").unwrap();
    // Distinct bodies show which copy was sent (a real build writes real encodings).
    std::fs::write(app.join("app_bg.wasm.br"), b"brotli copy").unwrap();
    std::fs::write(app.join("app_bg.wasm.gz"), b"gzip copy").unwrap();
    std::fs::write(web.join("index.html"), "<title>portal</title>").unwrap();
    std::fs::write(web.join("index.html.br"), "page, brotli").unwrap();
    std::fs::write(web.join("index.html.gz"), "page, gzip").unwrap();
    let http = reqwest::Client::new();
    let get = |path: &str, accept: &str| {
        http.get(srv.url(path))
            .header("accept-encoding", accept)
            .send()
    };
    let url = "/assets/app-0123456789abcdef/app_bg.wasm";

    for (accept, encoding, body) in [
        ("gzip, deflate, br, zstd", Some("br"), &b"brotli copy"[..]),
        ("gzip", Some("gzip"), &b"gzip copy"[..]),
        ("identity", None, &b"\0asm\x01\0\0\0 raw"[..]),
    ] {
        let r = get(url, accept).await.unwrap();
        assert_eq!(r.status().as_u16(), 200, "{accept}");
        let h = r.headers().clone();
        assert_eq!(
            h.get("content-encoding").map(|v| v.to_str().unwrap()),
            encoding,
            "{accept}"
        );
        assert_eq!(h["cache-control"], "public, max-age=31536000, immutable");
        assert_eq!(h["vary"], "accept-encoding");
        assert_eq!(h["content-type"], "application/wasm");
        assert_security_headers(&h, "hashed file");
        assert_eq!(&r.bytes().await.unwrap()[..], body, "{accept}");
    }

    // The page (and the SPA fallback) is revalidated on every visit, compressed too.
    for path in ["/", "/index.html", "/applications/SW1/generate"] {
        let r = get(path, "br").await.unwrap();
        assert_eq!(r.status().as_u16(), 200, "{path}");
        assert_eq!(r.headers()["cache-control"], "no-cache", "{path}");
        assert_eq!(r.headers()["content-encoding"], "br", "{path}");
        assert_eq!(r.headers()["vary"], "accept-encoding", "{path}");
    }
    // A hashed name that does not exist (an old page after its files were pruned) is not
    // answered with the page, which the browser would then keep for a year.
    let r = get("/assets/app-ffffffffffffffff/app.js", "br")
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    assert_eq!(r.headers()["cache-control"], "no-store");
    // API answers are never stored.
    let r = get("/api/session", "br").await.unwrap();
    assert_eq!(r.headers()["cache-control"], "no-store");
    srv.stop().await;
}
