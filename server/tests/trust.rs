//! Production trust (issue 12): the development login is applicant-only and loopback-only;
//! holds belong to whoever placed them and revocations carry RFC 5280 reasons into the CRL;
//! a certificate's O is the name the card proved; operator accounts have a lifecycle and
//! least-privilege roles checked on every operator route; .cer registration checks what it
//! registers. Each test failed on the code before its change (see the commit messages).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use base64::Engine as _;
use common::{Backend, TestServer, code};
use proto::api::IssuedCertificate;
use proto::{Action, ApplicationType, ErrorCode, OperatorRole};
use reqwest::StatusCode;
use server::config::Config;

fn pem_to_der(pem: &str) -> Vec<u8> {
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap()
}

/// `openssl <crl|x509> -text` of a DER file (names in plain UTF-8).
fn openssl_text(what: &str, der: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("in.der"), der).unwrap();
    let mut args = vec![what, "-inform", "DER", "-in", "in.der", "-noout", "-text"];
    args.extend(["-nameopt", "utf8,sep_comma_plus"]);
    String::from_utf8(common::openssl(dir.path(), &args)).unwrap()
}

// ---- 12.1 development login ----------------------------------------------------------

async fn dev_login_is_for_applicants_only(b: Backend) {
    let srv = TestServer::start(b).await;
    let r = srv
        .client()
        .http
        .post(srv.url("/api/auth/dev-login"))
        .header("X-Requested-With", "portal")
        .json(&serde_json::json!({"role": "operator", "display_name": "ops"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(code(&r.json().await.unwrap()), ErrorCode::Forbidden);
    assert_eq!(
        common::count(
            &srv,
            "SELECT COUNT(*) FROM sessions WHERE role = 'operator'"
        )
        .await,
        0
    );

    // /api/session says the development login is on, before and after a login.
    let anon = srv.client().get("/api/session").await;
    assert_eq!(anon.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(anon.headers()["x-portal-dev-login"], "on");
    let alice = srv.applicant(common::TAX_ID).await;
    let r = alice.get("/api/session").await;
    assert_eq!(r.headers()["x-portal-dev-login"], "on");
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["dev_login"], true);
    assert_eq!(
        v["company_name"],
        serde_json::Value::Null,
        "nothing verified"
    );
    srv.stop().await;

    // Off: no header, and the session says so.
    let srv = TestServer::start_with(b, |c| c.auth.dev_login = false).await;
    let ops = srv.operator().await;
    let r = ops.get("/api/session").await;
    assert!(r.headers().get("x-portal-dev-login").is_none());
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["dev_login"], false);
    assert_eq!(v["operator_role"], "admin");
    srv.stop().await;
}
both!(dev_login_is_for_applicants_only);

#[tokio::test]
async fn dev_login_refuses_to_start_off_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let base = || {
        let mut c = Config {
            data_dir: dir.path().join("data"),
            web_dir: dir.path().join("web"),
            mail_worker: false,
            expiry_interval_secs: 0,
            ..Config::default()
        };
        c.auth.dev_login = true;
        c
    };
    let everywhere = Config {
        bind: "0.0.0.0:0".parse().unwrap(),
        public_url: Some("http://127.0.0.1:8080".into()),
        ..base()
    };
    let public = Config {
        public_url: Some("https://portal.example.gov.tw".into()),
        ..base()
    };
    let named = Config {
        public_url: Some("http://portal.example.gov.tw".into()),
        ..base()
    };
    for (what, config) in [
        ("bind 0.0.0.0", everywhere),
        ("https public URL", public),
        ("public host name", named),
    ] {
        let clock = std::sync::Arc::new(server::clock::SystemClock);
        let err = server::build(config, clock)
            .await
            .err()
            .unwrap_or_else(|| panic!("{what}: started"));
        assert!(err.to_string().contains("dev_login"), "{what}: {err}");
    }
}

// ---- 12.2 holds and reasons ----------------------------------------------------------

async fn holds_belong_to_whoever_placed_them(b: Backend) {
    let srv = TestServer::start(b).await;
    let alice = srv.applicant(common::TAX_ID).await;
    let ops = srv.operator().await;
    let (app, cert) = common::issued_application(&alice, &ops).await;
    let unsuspend = common::targeted_form(ApplicationType::Unsuspend, &app.serial);

    // An operator's hold: the company may not lift it, and is not offered the button.
    ops.post_ok(
        &format!("/api/admin/certificates/{}/suspend", cert.serial_hex),
        &serde_json::json!({"reason": "court order"}),
        200,
    )
    .await;
    let v = alice.post_ok("/api/applications", &unsuspend, 403).await;
    assert_eq!(code(&v), ErrorCode::Forbidden);
    let seen = alice.application(&app.serial).await;
    assert!(
        !seen.actions.contains(&Action::Unsuspend),
        "{:?}",
        seen.actions
    );
    assert!(seen.actions.contains(&Action::Revoke));
    let placed = format!(
        "SELECT COUNT(*) FROM certificates WHERE serial_hex = '{}' \
         AND hold_placed_by = 'operator:ops' AND status_reason = 'certificateHold'",
        cert.serial_hex
    );
    assert_eq!(common::count(&srv, &placed).await, 1);
    // An operator with the duty lifts it.
    ops.post_ok(
        &format!("/api/admin/certificates/{}/unsuspend", cert.serial_hex),
        &serde_json::json!({"reason": "order lifted"}),
        200,
    )
    .await;

    // The company's own hold: the company lifts it.
    alice
        .post_ok(
            "/api/applications",
            &common::targeted_form(ApplicationType::Suspend, &app.serial),
            201,
        )
        .await;
    let seen = alice.application(&app.serial).await;
    assert!(
        seen.actions.contains(&Action::Unsuspend),
        "{:?}",
        seen.actions
    );
    alice.post_ok("/api/applications", &unsuspend, 201).await;
    assert_eq!(
        alice
            .application(&app.serial)
            .await
            .certificate
            .unwrap()
            .status,
        proto::CertStatus::Valid
    );
    srv.stop().await;
}
both!(holds_belong_to_whoever_placed_them);

async fn revocation_reasons_reach_the_crl(b: Backend) {
    let srv = TestServer::start(b).await;
    let alice = srv.applicant(common::TAX_ID).await;
    let ops = srv.operator().await;
    let (first, cert1) = common::issued_application(&alice, &ops).await;
    let (_, cert2) = common::issued_application(&alice, &ops).await;

    // certificateHold is the reason of holds only.
    let mut revoke = common::targeted_form(ApplicationType::Revoke, &first.serial);
    revoke.reason_code = Some(proto::RevocationReason::CertificateHold);
    let v = alice.post_ok("/api/applications", &revoke, 422).await;
    assert_eq!(v["error"]["fields"][0]["field"], "reason_code");

    // The applicant's revoke with keyCompromise; the operator's with cessationOfOperation.
    revoke.reason_code = Some(proto::RevocationReason::KeyCompromise);
    alice.post_ok("/api/applications", &revoke, 201).await;
    ops.post_ok(
        &format!("/api/admin/certificates/{}/revoke", cert2.serial_hex),
        &serde_json::json!({"reason": "closed", "reason_code": "cessationOfOperation"}),
        200,
    )
    .await;

    let der = reqwest::get(srv.url("/crl/ca.crl"))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let text = openssl_text("crl", &der);
    let entry = |serial_hex: &str| {
        let serial = serial_hex.to_uppercase();
        let serial = serial.trim_start_matches('0');
        let at = text
            .find(serial)
            .unwrap_or_else(|| panic!("{serial} not on the CRL:\n{text}"));
        text[at..].lines().take(6).collect::<Vec<_>>().join("\n")
    };
    assert!(
        entry(&cert1.serial_hex).contains("Key Compromise"),
        "{text}"
    );
    assert!(
        entry(&cert2.serial_hex).contains("Cessation Of Operation"),
        "{text}"
    );
    srv.stop().await;
}
both!(revocation_reasons_reach_the_crl);

// ---- 12.3 verified subject fields ----------------------------------------------------

async fn the_verified_company_name_wins(b: Backend) {
    let srv = TestServer::start(b).await;
    let alice = srv.applicant(common::TAX_ID).await;
    let ops = srv.operator().await;
    let mut form = common::good_form();
    form.company.name = "別人的公司股份有限公司".into();
    // What a card login proves (the session's company_name) replaces the form's name.
    let created = server::domain::applications::create(
        &srv.state.svc,
        common::TAX_ID,
        Some("卡片上的公司股份有限公司"),
        &form,
        None,
        srv.now(),
    )
    .await
    .unwrap();
    assert_eq!(created.view.company.name, "卡片上的公司股份有限公司");
    let bill = created.view.bill.clone().unwrap();
    let r = ops.pay(&bill.bill_no, bill.amount).await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = alice
        .submit_csr(&created.view.serial, &common::csr_pem(0, "x"))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let issued: IssuedCertificate = r.json().await.unwrap();
    let text = openssl_text("x509", &pem_to_der(&issued.certificate_pem));
    let subject = text
        .lines()
        .find(|l| l.trim_start().starts_with("Subject:"))
        .unwrap();
    assert!(subject.contains("O=卡片上的公司股份有限公司"), "{subject}");
    assert!(!subject.contains("別人"), "{subject}");

    // A 修改 cannot rename it either.
    let mut modify = common::targeted_form(ApplicationType::Modify, &created.view.serial);
    modify.company.name = "又一家公司".into();
    let changed = server::domain::applications::create(
        &srv.state.svc,
        common::TAX_ID,
        Some("卡片上的公司股份有限公司"),
        &modify,
        None,
        srv.now(),
    )
    .await
    .unwrap();
    assert_eq!(changed.view.company.name, "卡片上的公司股份有限公司");
    assert_eq!(
        alice.application(&created.view.serial).await.company.name,
        "卡片上的公司股份有限公司"
    );
    srv.stop().await;
}
both!(the_verified_company_name_wins);

// ---- 12.6 operator accounts and roles ------------------------------------------------

async fn disabling_ends_sessions_and_passwords_change(b: Backend) {
    let srv = TestServer::start(b).await;
    let ops = srv.operator().await;
    let elsewhere = srv.operator().await;
    ops.get_json("/api/admin/applications", 200).await;
    let db = &srv.state.svc.db;

    let ended = server::auth::operators::set_disabled(db, "ops", true, srv.now())
        .await
        .unwrap();
    assert_eq!(ended, 2);
    assert_eq!(
        code(&ops.get_json("/api/admin/applications", 401).await),
        ErrorCode::Unauthenticated
    );
    let r = srv
        .client()
        .http
        .post(srv.url("/api/auth/operator-login"))
        .header("X-Requested-With", "portal")
        .json(&serde_json::json!({"username": "ops", "password": common::OPERATOR_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    drop(elsewhere);

    // A session the disable did not delete (another instance logged the operator in while
    // the disable ran, or an administrator set the flag in the database): the session
    // lookup itself refuses a disabled account.
    server::auth::operators::set_disabled(db, "ops", false, srv.now())
        .await
        .unwrap();
    let late = srv.operator().await;
    late.get_json("/api/admin/applications", 200).await;
    let mut tx = db.write().await.unwrap();
    let op = server::db::operators::by_username(&mut tx, "ops")
        .await
        .unwrap()
        .unwrap();
    assert!(
        server::db::operators::set_disabled(&mut tx, op.id, true)
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();
    assert_eq!(
        code(&late.get_json("/api/admin/applications", 401).await),
        ErrorCode::Unauthenticated
    );
    drop(late);
    server::auth::operators::set_disabled(db, "ops", false, srv.now())
        .await
        .unwrap();
    let listed = server::auth::operators::list(db).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert!(!listed[0].disabled);
    assert_eq!(listed[0].role, "admin");

    // The operator changes their own password: the current one is checked, the other
    // sessions end, this one stays.
    let ops = srv.operator().await;
    let other = srv.operator().await;
    let change = |current: &str, new: &str| serde_json::json!({"current_password": current, "new_password": new});
    let v = ops
        .post_ok(
            "/api/operator/password",
            &change("wrong password!!", "a brand new password"),
            422,
        )
        .await;
    assert_eq!(v["error"]["fields"][0]["field"], "current_password");
    let v = ops
        .post_ok(
            "/api/operator/password",
            &change(common::OPERATOR_PASSWORD, "short"),
            422,
        )
        .await;
    assert_eq!(v["error"]["fields"][0]["field"], "new_password");
    let r = ops
        .post(
            "/api/operator/password",
            &change(common::OPERATOR_PASSWORD, "a brand new password"),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    ops.get_json("/api/admin/applications", 200).await;
    other.get_json("/api/admin/applications", 401).await;
    let mut again = srv.client();
    again.operator_login("ops", "a brand new password").await;
    // Applicants have no password to change.
    let alice = srv.applicant(common::TAX_ID).await;
    alice
        .post_ok(
            "/api/operator/password",
            &change("x", "a brand new password"),
            403,
        )
        .await;
    srv.stop().await;
}
both!(disabling_ends_sessions_and_passwords_change);

/// Every operator route, with a body that gets past parsing: 403 `forbidden` for a role
/// without the duty, anything else (200, 404, 422) for one with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_operator_route_checks_the_role() {
    use OperatorRole::{Admin, Auditor, Cashier, Officer};
    let srv = TestServer::start(Backend::Sqlite).await;
    let alice = srv.applicant(common::TAX_ID).await;
    let admin = srv.operator().await;
    let (_, cert) = common::issued_application(&alice, &admin).await;
    let cert_path = |a: &str| format!("/api/admin/certificates/{}/{a}", cert.serial_hex);
    let reason = serde_json::json!({"reason": "test", "reason_code": "superseded"});
    let payment = serde_json::json!({"bill_no": "AAF11500000001", "amount": 2000, "paid_on": common::today()});

    enum Call {
        Get(&'static str),
        Post(String, serde_json::Value),
        Csv(&'static str),
    }
    let routes: Vec<(Call, &[OperatorRole])> = vec![
        (
            Call::Get("/api/admin/applications"),
            &[Cashier, Officer, Auditor, Admin],
        ),
        (
            Call::Get("/api/admin/audit"),
            &[Cashier, Officer, Auditor, Admin],
        ),
        (
            Call::Get("/api/admin/mail"),
            &[Cashier, Officer, Auditor, Admin],
        ),
        (
            Call::Post("/api/admin/payments".into(), payment),
            &[Cashier, Admin],
        ),
        (Call::Csv("/api/admin/reconciliation"), &[Cashier, Admin]),
        (
            Call::Post(cert_path("suspend"), reason.clone()),
            &[Officer, Admin],
        ),
        (
            Call::Post(cert_path("unsuspend"), reason.clone()),
            &[Officer, Admin],
        ),
        (
            Call::Post(cert_path("revoke"), reason.clone()),
            &[Officer, Admin],
        ),
    ];
    for role in [Cashier, Officer, Auditor, Admin] {
        let who = srv.operator_as(role.code(), role).await;
        for (call, allowed) in &routes {
            let (what, r) = match call {
                Call::Get(p) => (p.to_string(), who.get(p).await),
                Call::Post(p, body) => (p.clone(), who.post(p, body).await),
                Call::Csv(p) => (p.to_string(), who.post_csv(p, "not,a,bank,file\n").await),
            };
            let status = r.status();
            let body: serde_json::Value = r.json().await.unwrap_or_default();
            if allowed.contains(&role) {
                assert_ne!(status, StatusCode::FORBIDDEN, "{role:?} {what}: {body}");
                assert_ne!(status, StatusCode::UNAUTHORIZED, "{role:?} {what}: {body}");
            } else {
                assert_eq!(status, StatusCode::FORBIDDEN, "{role:?} {what}: {body}");
                assert_eq!(code(&body), ErrorCode::Forbidden, "{role:?} {what}");
            }
        }
        let me: serde_json::Value = who.get_json("/api/session", 200).await;
        assert_eq!(me["operator_role"], role.code());
    }
    srv.stop().await;
}

// ---- 12.8 .cer registration ----------------------------------------------------------

async fn registration_checks_what_it_registers(b: Backend) {
    let srv = TestServer::start(b).await;
    let alice = srv.applicant(common::TAX_ID).await;
    let ops = srv.operator().await;
    let (x, _) = common::issued_application(&alice, &ops).await;
    let (y, y_cert) = common::issued_application(&alice, &ops).await;
    let y_b64 =
        base64::engine::general_purpose::STANDARD.encode(pem_to_der(&y_cert.certificate_pem));
    let req = |page: &str, broker: &str| {
        serde_json::json!({
            "application_serial": page,
            "staff_name": "林報關",
            "customs_office": "keelung",
            "broker_code": broker,
            "cert_type": "customs_dedicated",
            "cer_der_b64": y_b64,
        })
    };

    // Y's certificate on X's 註冊 page: refused, naming Y; nothing recorded.
    let v = alice
        .post_ok("/api/registrations", &req(&x.serial, "K1234"), 422)
        .await;
    assert_eq!(code(&v), ErrorCode::BadCertificate);
    let message = v["error"]["message"].as_str().unwrap();
    assert!(message.contains(&y.serial), "{message}");
    // A broker code the certificate was not issued with.
    let v = alice
        .post_ok("/api/registrations", &req(&y.serial, "Z9999"), 422)
        .await;
    assert_eq!(v["error"]["fields"][0]["field"], "broker_code");
    assert_eq!(v["error"]["fields"][0]["code"], "mismatch");
    assert_eq!(
        common::count(&srv, "SELECT COUNT(*) FROM registrations").await,
        0
    );
    // The right page and code.
    let v = alice
        .post_ok("/api/registrations", &req(&y.serial, "K1234"), 201)
        .await;
    assert_eq!(v["application_serial"], y.serial);
    srv.stop().await;
}
both!(registration_checks_what_it_registers);
