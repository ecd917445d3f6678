//! Issuance, certificate download, registration, revocation and the CRL, on both databases;
//! issued certificates and CRLs are checked with openssl and pkilint.

// Test helpers outside #[test] fns unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use base64::Engine as _;
use common::{Backend, TestServer, code, count, openssl};
use proto::api::{IssuedCertificate, RegistrationView};
use proto::{Action, ApplicationType, ErrorCode, Status};

fn pem_to_der(pem: &str) -> Vec<u8> {
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap()
}

fn cert_text(der: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.der"), der).unwrap();
    String::from_utf8(openssl(
        dir.path(),
        &[
            "x509", "-inform", "DER", "-in", "c.der", "-noout", "-text", "-nameopt", "RFC2253",
        ],
    ))
    .unwrap()
}

fn crl_text(srv: &TestServer, der: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("crl.der"), der).unwrap();
    std::fs::write(
        dir.path().join("ca.pem"),
        srv.state.svc.ca.certificate_pem(),
    )
    .unwrap();
    // -CAfile makes openssl verify the CRL signature ("verify OK" on stderr, failure → exit 1).
    String::from_utf8(openssl(
        dir.path(),
        &[
            "crl", "-inform", "DER", "-in", "crl.der", "-CAfile", "ca.pem", "-noout", "-text",
        ],
    ))
    .unwrap()
}

async fn fetch_crl(srv: &TestServer) -> Vec<u8> {
    let r = reqwest::get(srv.url("/crl/ca.crl")).await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["content-type"], "application/pkix-crl");
    r.bytes().await.unwrap().to_vec()
}

fn crl_number(text: &str) -> u64 {
    let i = text.find("X509v3 CRL Number:").unwrap();
    text[i..].lines().nth(1).unwrap().trim().parse().unwrap()
}

async fn issue_retry_and_download(b: Backend) {
    let srv = TestServer::start(b).await;
    let alice = srv.applicant(common::TAX_ID).await;
    let bob = srv.applicant(common::OTHER_TAX_ID).await;
    let ops = srv.operator().await;
    let app = common::paid_application(&alice, &ops).await;
    let csr = common::csr_pem(0, "whatever the CSR says");

    // Another company cannot submit for this application.
    let r = bob.submit_csr(&app.serial, &csr).await;
    assert_eq!(r.status().as_u16(), 404);

    let r = alice.submit_csr(&app.serial, &csr).await;
    assert_eq!(r.status().as_u16(), 200);
    let first = r.text().await.unwrap();
    let issued: IssuedCertificate = serde_json::from_str(&first).unwrap();
    assert_eq!(issued.application_serial, app.serial);
    assert_eq!(issued.cert_name, "SingleWindow-01-B00051");
    assert_eq!(issued.serial_hex.len(), 32);
    assert_eq!(issued.chain_pem, vec![srv.state.svc.ca.certificate_pem()]);

    // A retry returns the same certificate; a different CSR is a conflict.
    let again = alice
        .submit_csr(&app.serial, &csr)
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(again, first);
    let r = alice
        .submit_csr(&app.serial, &common::csr_pem(1, "x"))
        .await;
    assert_eq!(r.status().as_u16(), 409);
    assert_eq!(code(&r.json().await.unwrap()), ErrorCode::Conflict);
    assert_eq!(count(&srv, "SELECT COUNT(*) FROM certificates").await, 1);

    // The view, the JSON certificate and the .cer agree.
    let view = alice.application(&app.serial).await;
    assert_eq!(view.status, Status::Completed);
    let cv = view.certificate.clone().unwrap();
    assert_eq!(cv.serial_hex, issued.serial_hex);
    assert!(!cv.registered);
    assert_eq!(
        view.actions,
        vec![
            Action::Download,
            Action::Register,
            Action::Change,
            Action::Renew,
            Action::Revoke,
            Action::Suspend
        ]
    );
    let got: IssuedCertificate = serde_json::from_value(
        alice
            .get_json(
                &format!("/api/applications/{}/certificate", app.serial),
                200,
            )
            .await,
    )
    .unwrap();
    assert_eq!(got, issued);
    let r = alice
        .get(&format!("/api/applications/{}/certificate.cer", app.serial))
        .await;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["content-type"], "application/pkix-cert");
    assert_eq!(
        r.headers()["content-disposition"],
        "attachment; filename=\"SingleWindow-01-B00051.cer\""
    );
    let der = r.bytes().await.unwrap().to_vec();
    assert_eq!(der, pem_to_der(&issued.certificate_pem));
    assert_eq!(
        bob.get(&format!("/api/applications/{}/certificate.cer", app.serial))
            .await
            .status()
            .as_u16(),
        404
    );
    let unpaid = alice.create(&common::good_form()).await;
    assert_eq!(
        alice
            .get(&format!("/api/applications/{}/certificate", unpaid.serial))
            .await
            .status()
            .as_u16(),
        404
    );

    // What the CA put in it: the profile and the application, not the CSR.
    let text = cert_text(&der);
    assert!(text.contains("CA:FALSE"), "{text}");
    assert!(text.contains("CN=SingleWindow-01-B00051"), "{text}");
    assert!(text.contains("serialNumber=12345675"), "{text}");
    assert!(text.contains("OU=K1234"), "{text}");
    assert!(!text.contains("whatever the CSR says"));
    assert!(
        text.contains(&format!("URI:{}/crl/ca.crl", srv.base)),
        "{text}"
    );
    assert!(
        text.contains(&format!("CA Issuers - URI:{}/ca.cer", srv.base)),
        "{text}"
    );
    assert!(text.contains("TLS Web Client Authentication"), "{text}");
    let serial_in_cert: String = {
        let i = text.find("Serial Number:").unwrap();
        text[i..].lines().nth(1).unwrap().trim().replace(':', "")
    };
    assert_eq!(
        serial_in_cert.trim_start_matches('0'),
        issued.serial_hex.trim_start_matches('0')
    );
    common::assert_cert_lints_clean(&der);

    // Audit and mail of the issuance, once.
    assert_eq!(
        count(
            &srv,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'certificate.issue'"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &srv,
            "SELECT COUNT(*) FROM mail_outbox WHERE kind = 'issued'"
        )
        .await,
        1
    );
    srv.stop().await;
}
both!(issue_retry_and_download);

async fn fifty_concurrent_submits_one_certificate(b: Backend) {
    let srv = TestServer::start(b).await;
    let alice = srv.applicant(common::TAX_ID).await;
    let ops = srv.operator().await;
    let app = common::paid_application(&alice, &ops).await;
    let csr = common::csr_pem(0, "x");
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let c = alice.clone();
        let serial = app.serial.clone();
        let csr = csr.clone();
        tasks.push(tokio::spawn(async move {
            let r = c.submit_csr(&serial, &csr).await;
            (r.status().as_u16(), r.text().await.unwrap())
        }));
    }
    let mut bodies = Vec::new();
    for t in tasks {
        let (status, body) = t.await.unwrap();
        assert_eq!(status, 200, "{body}");
        bodies.push(body);
    }
    assert!(
        bodies.windows(2).all(|w| w[0] == w[1]),
        "all answers identical"
    );
    assert_eq!(count(&srv, "SELECT COUNT(*) FROM certificates").await, 1);
    assert_eq!(
        count(
            &srv,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'certificate.issue'"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &srv,
            "SELECT COUNT(*) FROM mail_outbox WHERE kind = 'issued'"
        )
        .await,
        1
    );
    srv.stop().await;
}
both!(fifty_concurrent_submits_one_certificate);

/// CSRs the CA must refuse (made with openssl) and one whose CA:TRUE request it ignores.
fn openssl_csrs() -> (String, String, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let req = |args: &[&str]| {
        let mut a = vec!["req", "-new", "-nodes", "-subj", "/C=TW/O=Test/CN=test"];
        a.extend_from_slice(args);
        String::from_utf8(openssl(d, &a)).unwrap()
    };
    openssl(d, &["genrsa", "-out", "k2048.pem", "2048"]);
    openssl(d, &["genrsa", "-out", "k1024.pem", "1024"]);
    let sha1 = req(&["-key", "k2048.pem", "-sha1"]);
    let small = req(&["-key", "k1024.pem", "-sha256"]);
    let ca_true = req(&[
        "-key",
        "k2048.pem",
        "-sha256",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    let good = req(&["-key", "k2048.pem", "-sha256"]);
    (sha1, small, ca_true, good)
}

/// Flip one byte of the subject CN inside the signed part: parses, signature fails.
fn tamper(pem: &str) -> String {
    let mut der = pem_to_der(pem);
    let pos = der.windows(4).position(|w| w == b"test").unwrap();
    der[pos] = b'b';
    let b64 = base64::engine::general_purpose::STANDARD.encode(&der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN CERTIFICATE REQUEST-----\n{}\n-----END CERTIFICATE REQUEST-----\n",
        lines.join("\n")
    )
}

async fn bad_csrs(b: Backend) {
    let (sha1, small, ca_true, good) = openssl_csrs();
    let srv = TestServer::start(b).await;
    let alice = srv.applicant(common::TAX_ID).await;
    let ops = srv.operator().await;
    let app = common::paid_application(&alice, &ops).await;
    let cases = [
        (tamper(&good), "signature"),
        (sha1, "sha1"),
        (small, "1024"),
        (
            "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n".into(),
            "parse",
        ),
        ("not a csr".into(), ""),
    ];
    for (csr, why) in &cases {
        let r = alice.submit_csr(&app.serial, csr).await;
        assert_eq!(r.status().as_u16(), 422, "{why}");
        let v: serde_json::Value = r.json().await.unwrap();
        assert_eq!(code(&v), ErrorCode::BadCsr, "{why}: {v}");
        let msg = v["error"]["message"].as_str().unwrap();
        assert!(msg.to_lowercase().contains(why), "{why}: {msg}");
    }
    assert_eq!(alice.application(&app.serial).await.status, Status::Paid);
    assert_eq!(count(&srv, "SELECT COUNT(*) FROM certificates").await, 0);

    // CA:TRUE requested → a leaf with CA:FALSE.
    let r = alice.submit_csr(&app.serial, &ca_true).await;
    assert_eq!(r.status().as_u16(), 200);
    let issued: IssuedCertificate = r.json().await.unwrap();
    let der = pem_to_der(&issued.certificate_pem);
    let text = cert_text(&der);
    assert!(text.contains("CA:FALSE"), "{text}");
    assert!(!text.contains("CA:TRUE"));
    assert!(!text.contains("Certificate Sign"), "{text}");
    common::assert_cert_lints_clean(&der);
    srv.stop().await;
}
both!(bad_csrs);

async fn revocation_and_crl(b: Backend) {
    let srv = TestServer::start(b).await;
    let alice = srv.applicant(common::TAX_ID).await;
    let ops = srv.operator().await;
    let (app, cert) = common::issued_application(&alice, &ops).await;
    let serial_upper = cert.serial_hex.to_uppercase();
    let listed = |text: &str| text.contains(&serial_upper.trim_start_matches('0').to_owned());

    let crl0 = fetch_crl(&srv).await;
    let t0 = crl_text(&srv, &crl0);
    assert!(t0.contains("No Revoked Certificates"), "{t0}");
    common::assert_crl_lints_clean(&crl0);
    // Served again without change: same CRL.
    assert_eq!(fetch_crl(&srv).await, crl0);

    // Hold: listed with reason certificateHold.
    alice
        .post_ok(
            "/api/applications",
            &common::targeted_form(ApplicationType::Suspend, &app.serial),
            201,
        )
        .await;
    let crl1 = fetch_crl(&srv).await;
    let t1 = crl_text(&srv, &crl1);
    assert!(listed(&t1), "{t1}");
    assert!(t1.contains("Certificate Hold"), "{t1}");
    assert!(crl_number(&t1) > crl_number(&t0));
    common::assert_crl_lints_clean(&crl1);

    // Unsuspend: off the list again.
    let reason = serde_json::json!({"reason": "found the card"});
    ops.post_ok(
        &format!("/api/admin/certificates/{}/unsuspend", cert.serial_hex),
        &reason,
        200,
    )
    .await;
    let t2 = crl_text(&srv, &fetch_crl(&srv).await);
    assert!(!listed(&t2), "{t2}");
    assert!(crl_number(&t2) > crl_number(&t1));

    // Revoke: listed for good, no hold reason.
    let v = ops
        .post_ok(
            &format!(
                "/api/admin/certificates/{}/revoke",
                cert.serial_hex.to_uppercase()
            ),
            &reason,
            200,
        )
        .await;
    assert_eq!(v["status"], "revoked");
    let crl3 = fetch_crl(&srv).await;
    let t3 = crl_text(&srv, &crl3);
    assert!(listed(&t3), "{t3}");
    assert!(!t3.contains("Certificate Hold"));
    assert!(crl_number(&t3) > crl_number(&t2));
    common::assert_crl_lints_clean(&crl3);
    assert_eq!(
        count(
            &srv,
            "SELECT COUNT(*) FROM mail_outbox WHERE kind IN ('suspended', 'unsuspended', 'revoked')"
        )
        .await,
        3
    );

    // The CA certificate at the AIA URL, DER and PEM.
    let r = reqwest::get(srv.url("/ca.cer")).await.unwrap();
    assert_eq!(r.headers()["content-type"], "application/pkix-cert");
    assert_eq!(
        r.bytes().await.unwrap().to_vec(),
        srv.state.svc.ca.certificate_der()
    );
    let pem = reqwest::get(srv.url("/ca.pem"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(pem, srv.state.svc.ca.certificate_pem());
    assert!(!pem.contains("PRIVATE"));
    srv.stop().await;
}
both!(revocation_and_crl);

async fn registration(b: Backend) {
    let srv = TestServer::start(b).await;
    let alice = srv.applicant(common::TAX_ID).await;
    let bob = srv.applicant(common::OTHER_TAX_ID).await;
    let ops = srv.operator().await;
    let (app, cert) = common::issued_application(&alice, &ops).await;
    let der = pem_to_der(&cert.certificate_pem);
    let req = |b64: String| {
        serde_json::json!({
            "staff_name": "林報關",
            "customs_office": "keelung",
            "broker_code": "K1234",
            "cert_type": "customs_dedicated",
            "cer_der_b64": b64,
        })
    };
    let b64 = base64::engine::general_purpose::STANDARD.encode(&der);

    // Field checks.
    let mut bad = req(b64.clone());
    bad["staff_name"] = serde_json::json!("");
    bad["broker_code"] = serde_json::json!("K-1");
    bad["cert_type"] = serde_json::json!("ic_card");
    let v = alice.post_ok("/api/registrations", &bad, 422).await;
    assert_eq!(code(&v), ErrorCode::ValidationFailed);
    assert_eq!(v["error"]["fields"].as_array().unwrap().len(), 3);
    let v = alice
        .post_ok("/api/registrations", &req("@@@".into()), 422)
        .await;
    assert_eq!(code(&v), ErrorCode::ValidationFailed);
    // Not a certificate, another CA's certificate, another company's certificate.
    let junk = base64::engine::general_purpose::STANDARD.encode(b"hello");
    assert_eq!(
        code(&alice.post_ok("/api/registrations", &req(junk), 422).await),
        ErrorCode::BadCertificate
    );
    let dir = tempfile::tempdir().unwrap();
    openssl(
        dir.path(),
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "k.pem",
            "-subj",
            "/C=TW/O=Other/CN=Portal Test CA",
            "-days",
            "1",
            "-outform",
            "DER",
            "-out",
            "c.der",
        ],
    );
    let foreign = std::fs::read(dir.path().join("c.der")).unwrap();
    let foreign_b64 = base64::engine::general_purpose::STANDARD.encode(foreign);
    assert_eq!(
        code(
            &alice
                .post_ok("/api/registrations", &req(foreign_b64), 422)
                .await
        ),
        ErrorCode::BadCertificate
    );
    assert_eq!(
        code(
            &bob.post_ok("/api/registrations", &req(b64.clone()), 422)
                .await
        ),
        ErrorCode::BadCertificate
    );

    // The owner registers once (PEM accepted too); a second time is a conflict.
    let pem_b64 = base64::engine::general_purpose::STANDARD.encode(&cert.certificate_pem);
    let v: RegistrationView = serde_json::from_value(
        alice
            .post_ok("/api/registrations", &req(pem_b64), 201)
            .await,
    )
    .unwrap();
    assert_eq!(v.serial_hex, cert.serial_hex);
    assert_eq!(v.application_serial, app.serial);
    assert_eq!(v.broker_code, "K1234");
    assert_eq!(
        code(
            &alice
                .post_ok("/api/registrations", &req(b64.clone()), 409)
                .await
        ),
        ErrorCode::Conflict
    );
    let view = alice.application(&app.serial).await;
    assert!(view.certificate.unwrap().registered);
    assert!(!view.actions.contains(&Action::Register));
    assert_eq!(
        count(
            &srv,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'certificate.register'"
        )
        .await,
        1
    );

    // A revoked certificate cannot be registered.
    let (_, cert2) = common::issued_application(&alice, &ops).await;
    ops.post_ok(
        &format!("/api/admin/certificates/{}/revoke", cert2.serial_hex),
        &serde_json::json!({"reason": "x"}),
        200,
    )
    .await;
    let b64_2 =
        base64::engine::general_purpose::STANDARD.encode(pem_to_der(&cert2.certificate_pem));
    assert_eq!(
        code(&alice.post_ok("/api/registrations", &req(b64_2), 409).await),
        ErrorCode::InvalidTransition
    );
    srv.stop().await;
}
both!(registration);

/// A CA that ends before the configured leaf validity: certificates are cut short at the CA's
/// end, and after it none is issued (an operator has to install a new CA).
async fn leaves_never_outlive_the_ca(b: Backend) {
    let dir = tempfile::tempdir().unwrap();
    // One year of CA validity, the default 730 days of leaf validity.
    let short = ca::Ca::generate(
        &ca::CaSubject {
            common_name: "Portal Short-Lived Test CA".into(),
            organization: "Customs Single Window Test".into(),
            country: "TW".into(),
        },
        time::OffsetDateTime::now_utc() - time::Duration::days(1),
        1,
    )
    .unwrap();
    let (cert, key) = (dir.path().join("ca.pem"), dir.path().join("ca.key"));
    std::fs::write(&cert, short.certificate_pem()).unwrap();
    common::write_private(&key, short.key_pem().as_bytes());
    let srv = TestServer::start_with(b, |c| {
        c.ca_cert = Some(cert.clone());
        c.ca_key = Some(key.clone());
        // The test moves the clock past the CA's end; sessions must survive that.
        c.auth.idle_timeout_minutes = 500 * 24 * 60;
        c.auth.absolute_timeout_hours = 500 * 24;
    })
    .await;
    assert_eq!(srv.state.svc.profile.validity_days, 730);
    let ca_end = short.not_after();
    let alice = srv.applicant(common::TAX_ID).await;
    let ops = srv.operator().await;

    let app = common::paid_application(&alice, &ops).await;
    let r = alice
        .submit_csr(&app.serial, &common::csr_pem(0, "x"))
        .await;
    assert_eq!(r.status().as_u16(), 200);
    let issued: IssuedCertificate = r.json().await.unwrap();
    let der = pem_to_der(&issued.certificate_pem);
    assert_eq!(short.inspect_issued(&der).unwrap().not_after, ca_end);
    // The row and the view say the same as the certificate.
    let view = alice.application(&app.serial).await;
    let shown = time::OffsetDateTime::parse(
        &view.certificate.unwrap().not_after,
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert_eq!(shown, ca_end);
    let expected = ca_end
        .to_offset(time::UtcOffset::UTC)
        .format(time::macros::format_description!(
            "[month repr:short] [day padding:space] [hour]:[minute]:[second] [year] GMT"
        ))
        .unwrap();
    assert!(cert_text(&der).contains(&format!("Not After : {expected}")));

    // After the CA's end nothing is issued, and the paid application keeps waiting.
    let app2 = common::paid_application(&alice, &ops).await;
    srv.clock.advance(time::Duration::days(400));
    let r = alice
        .submit_csr(&app2.serial, &common::csr_pem(1, "x"))
        .await;
    assert_eq!(r.status().as_u16(), 500);
    assert_eq!(code(&r.json().await.unwrap()), ErrorCode::Internal);
    assert_eq!(alice.application(&app2.serial).await.status, Status::Paid);
    assert_eq!(count(&srv, "SELECT COUNT(*) FROM certificates").await, 1);
    srv.stop().await;
}
both!(leaves_never_outlive_the_ca);
