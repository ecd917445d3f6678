//! After issuance: renewal supersedes the old certificate (on registration of the new one,
//! or when the grace period ends), expiry reminders (60/30/7 days, one mail per threshold
//! even when the job runs twice at once), and personal-data retention. The jobs are
//! functions of `now`: the tests jump days by passing a later `now`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use base64::Engine as _;
use common::{Backend, TestServer, count};
use proto::api::{ApplicationView, IssuedCertificate};
use proto::{ApplicationType, CertStatus, Status};
use reqwest::StatusCode;
use server::domain::{expiry, reminders, renewal, retention};
use time::{Duration, OffsetDateTime};

fn pem_to_der(pem: &str) -> Vec<u8> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap()
}

/// The CRL as openssl prints it (signature checked against the CA).
async fn crl_text(srv: &TestServer) -> String {
    let der = reqwest::get(srv.url("/crl/ca.crl"))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("crl.der"), &der).unwrap();
    std::fs::write(
        dir.path().join("ca.pem"),
        srv.state.svc.ca.certificate_pem(),
    )
    .unwrap();
    String::from_utf8(common::openssl(
        dir.path(),
        &[
            "crl", "-inform", "DER", "-in", "crl.der", "-CAfile", "ca.pem", "-noout", "-text",
        ],
    ))
    .unwrap()
}

/// Issued certificate → renew application → paid → the renewal's certificate (second key).
async fn renewed(
    alice: &common::Client,
    ops: &common::Client,
) -> (ApplicationView, ApplicationView, IssuedCertificate) {
    let (old, _) = common::issued_application(alice, ops).await;
    let renew = alice
        .create(&common::targeted_form(ApplicationType::Renew, &old.serial))
        .await;
    assert_eq!(renew.status, Status::Submitted);
    let bill = renew.bill.clone().unwrap();
    let r = ops.pay(&bill.bill_no, bill.amount).await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = alice
        .submit_csr(&renew.serial, &common::csr_pem(1, "ignored"))
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let issued: IssuedCertificate = r.json().await.unwrap();
    // Both valid until the switch-over.
    let old = alice.application(&old.serial).await;
    assert_eq!(old.certificate.as_ref().unwrap().status, CertStatus::Valid);
    (old, renew, issued)
}

async fn register(alice: &common::Client, cert: &IssuedCertificate) {
    let b64 = base64::engine::general_purpose::STANDARD.encode(pem_to_der(&cert.certificate_pem));
    alice
        .post_ok(
            "/api/registrations",
            &serde_json::json!({
                "staff_name": "林報關",
                "customs_office": "keelung",
                "broker_code": "K1234",
                "cert_type": "customs_dedicated",
                "cer_der_b64": b64,
            }),
            201,
        )
        .await;
}

async fn renewal_registration_supersedes_the_old_certificate(b: Backend) {
    let srv = TestServer::start(b).await;
    let alice = srv.applicant(common::TAX_ID).await;
    let ops = srv.operator().await;
    let (old, renew, issued) = renewed(&alice, &ops).await;
    let old_serial = old.certificate.clone().unwrap().serial_hex;

    register(&alice, &issued).await;

    let old = alice.application(&old.serial).await;
    assert_eq!(old.certificate.unwrap().status, CertStatus::Revoked);
    let new = alice.application(&renew.serial).await;
    assert_eq!(new.certificate.unwrap().status, CertStatus::Valid);
    // On the CRL with reasonCode superseded.
    let crl = crl_text(&srv).await;
    let at = crl
        .to_ascii_lowercase()
        .find(&old_serial.to_ascii_lowercase())
        .unwrap_or_else(|| panic!("{old_serial} not on the CRL:\n{crl}"));
    assert!(crl[at..].contains("Superseded"), "{crl}");
    assert_eq!(
        count(
            &srv,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'certificate.supersede'"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &srv,
            &format!(
                "SELECT COUNT(*) FROM mail_outbox WHERE kind = 'revoked' \
                 AND application_serial = '{}'",
                old.serial
            )
        )
        .await,
        1
    );
    // The grace job finds nothing left to do.
    let later = srv.now() + Duration::days(400);
    assert!(
        renewal::run(&srv.state.svc, 30, later)
            .await
            .unwrap()
            .is_empty()
    );
    srv.stop().await;
}
both!(renewal_registration_supersedes_the_old_certificate);

async fn renewal_grace_period_ends_the_old_certificate(b: Backend) {
    let srv = TestServer::start(b).await;
    let alice = srv.applicant(common::TAX_ID).await;
    let ops = srv.operator().await;
    let (old, renew, _) = renewed(&alice, &ops).await;
    let now = srv.now();

    let early = renewal::run(&srv.state.svc, 30, now + Duration::days(29))
        .await
        .unwrap();
    assert!(early.is_empty(), "{early:?}");
    let s = alice.application(&old.serial).await;
    assert_eq!(s.certificate.unwrap().status, CertStatus::Valid);

    let due = now + Duration::days(30) + Duration::minutes(1);
    let done = renewal::run(&srv.state.svc, 30, due).await.unwrap();
    assert_eq!(done, vec![renew.serial.clone()]);
    // A second run (or instance) does nothing more.
    assert!(
        renewal::run(&srv.state.svc, 30, due)
            .await
            .unwrap()
            .is_empty()
    );
    let s = alice.application(&old.serial).await;
    assert_eq!(s.certificate.unwrap().status, CertStatus::Revoked);
    assert_eq!(
        count(
            &srv,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'certificate.supersede' \
             AND actor = 'system:renewal'"
        )
        .await,
        1
    );
    srv.stop().await;
}
both!(renewal_grace_period_ends_the_old_certificate);

async fn reminders_sent(srv: &TestServer) -> i64 {
    count(
        srv,
        "SELECT COUNT(*) FROM mail_outbox WHERE kind = 'expiry_reminder'",
    )
    .await
}

async fn expiry_reminders_once_per_threshold(b: Backend) {
    let srv = TestServer::start(b).await;
    let alice = srv.applicant(common::TAX_ID).await;
    let ops = srv.operator().await;
    let (app, issued) = common::issued_application(&alice, &ops).await;
    assert!(!app.certificate.as_ref().unwrap().expiring_soon);
    let not_after = OffsetDateTime::parse(
        &issued.not_after,
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let days = [60, 30, 7];
    let svc = &srv.state.svc;

    let r = reminders::run(svc, &days, not_after - Duration::days(61))
        .await
        .unwrap();
    assert!(r.is_empty(), "{r:?}");

    // Inside 60 days: one mail, however often the job runs, on two instances at once too.
    let at = not_after - Duration::days(59);
    let (x, y) = tokio::join!(
        reminders::run(svc, &days, at),
        reminders::run(svc, &days, at)
    );
    assert_eq!(x.unwrap().len() + y.unwrap().len(), 1);
    assert!(reminders::run(svc, &days, at).await.unwrap().is_empty());
    assert_eq!(reminders_sent(&srv).await, 1);

    let r = reminders::run(svc, &days, not_after - Duration::days(29))
        .await
        .unwrap();
    assert_eq!(r, vec![(issued.serial_hex.clone(), 30)]);
    let r = reminders::run(svc, &days, not_after - Duration::days(3))
        .await
        .unwrap();
    assert_eq!(r, vec![(issued.serial_hex.clone(), 7)]);
    assert!(
        reminders::run(svc, &days, not_after - Duration::days(1))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(reminders_sent(&srv).await, 3);

    // The mail names the last day and links to 展期 of this application.
    let mail: (String, String, String) = sqlx::query_as(
        "SELECT to_addr, subject, body_text FROM mail_outbox WHERE kind = 'expiry_reminder' \
         ORDER BY id LIMIT 1",
    )
    .fetch_one(&svc.db.pool)
    .await
    .unwrap();
    assert_eq!(mail.0, "chen@example.com.tw");
    assert!(mail.1.contains("即將到期"), "{}", mail.1);
    assert!(
        mail.2.contains(&format!("/#/apply/renew/{}", app.serial)),
        "{}",
        mail.2
    );

    // The applicant's grid marks it once inside 60 days (and not once expired).
    let actor = server::domain::Actor::Applicant {
        tax_id: common::TAX_ID.into(),
    };
    let (actor, serial) = (&actor, app.serial.as_str());
    let seen = move |at| server::domain::applications::get(svc, actor, serial, at);
    let c = seen(not_after - Duration::days(61)).await.unwrap();
    assert!(!c.certificate.unwrap().expiring_soon);
    let c = seen(not_after - Duration::days(59)).await.unwrap();
    assert!(c.certificate.unwrap().expiring_soon);
    let c = seen(not_after + Duration::days(1)).await.unwrap();
    assert!(!c.certificate.unwrap().expiring_soon);
    srv.stop().await;
}
both!(expiry_reminders_once_per_threshold);

async fn renewal_under_way_stops_reminders(b: Backend) {
    let srv = TestServer::start(b).await;
    let alice = srv.applicant(common::TAX_ID).await;
    let ops = srv.operator().await;
    let (app, issued) = common::issued_application(&alice, &ops).await;
    alice
        .create(&common::targeted_form(ApplicationType::Renew, &app.serial))
        .await;
    let not_after = OffsetDateTime::parse(
        &issued.not_after,
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let r = reminders::run(&srv.state.svc, &[60, 30, 7], not_after - Duration::days(10))
        .await
        .unwrap();
    assert!(r.is_empty(), "{r:?}");
    srv.stop().await;
}
both!(renewal_under_way_stops_reminders);

/// Every text column of the audit log, joined.
async fn audit_text(srv: &TestServer) -> String {
    let rows: Vec<(String, String, String)> =
        sqlx::query_as("SELECT actor, action, detail FROM audit_log")
            .fetch_all(&srv.state.svc.db.pool)
            .await
            .unwrap();
    rows.into_iter()
        .map(|(a, b, c)| format!("{a} {b} {c}\n"))
        .collect()
}

async fn personal_data(srv: &TestServer, serial: &str) -> (String, String, String, String) {
    sqlx::query_as(
        "SELECT contact_name, contact_email, contact_mobile, staff_national_id \
         FROM applications WHERE serial = $1",
    )
    .bind(serial.to_owned())
    .fetch_one(&srv.state.svc.db.pool)
    .await
    .unwrap()
}

async fn retention_erases_contact_and_national_id(b: Backend) {
    let srv = TestServer::start(b).await;
    let alice = srv.applicant(common::TAX_ID).await;
    let ops = srv.operator().await;
    let svc = &srv.state.svc;
    let now = srv.now();
    let form = common::good_form();

    // Cancelled: unpaid after 14 days.
    let unpaid = alice.create(&form).await;
    let cancelled_at = now + Duration::days(15);
    assert_eq!(
        expiry::run(svc, cancelled_at).await.unwrap(),
        vec![unpaid.serial.clone()]
    );
    // Issued, then expired.
    let (issued_app, issued) = common::issued_application(&alice, &ops).await;
    let not_after = OffsetDateTime::parse(
        &issued.not_after,
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();

    // The audit log never held the contact or the national ID.
    let audit = audit_text(&srv).await;
    for secret in [
        form.contact.email.as_str(),
        form.contact.name.as_str(),
        form.contact.mobile.as_str(),
        form.staff_national_id.as_str(),
    ] {
        assert!(
            !audit.contains(secret),
            "{secret} in the audit log:\n{audit}"
        );
    }

    // Kept during the period.
    let r = retention::run(svc, 365, cancelled_at + Duration::days(364))
        .await
        .unwrap();
    assert!(r.is_empty(), "{r:?}");
    assert_eq!(
        personal_data(&srv, &unpaid.serial).await.1,
        "chen@example.com.tw"
    );

    // Its mails went out (the test runs no mail worker: mark them sent).
    sqlx::query("UPDATE mail_outbox SET state = 'sent'")
        .execute(&svc.db.pool)
        .await
        .unwrap();
    // Erased after it: the cancelled one now, the issued one only after its expiry + period.
    let r = retention::run(svc, 365, cancelled_at + Duration::days(366))
        .await
        .unwrap();
    assert_eq!(r, vec![unpaid.serial.clone()]);
    assert_eq!(
        personal_data(&srv, &unpaid.serial).await,
        (String::new(), String::new(), String::new(), String::new())
    );
    assert_eq!(
        personal_data(&srv, &issued_app.serial).await.3,
        "A123456789"
    );
    assert_eq!(
        count(
            &srv,
            &format!(
                "SELECT COUNT(*) FROM mail_outbox WHERE application_serial = '{}' \
                 AND (to_addr <> '' OR body_text <> '')",
                unpaid.serial
            )
        )
        .await,
        0
    );
    assert!(
        count(
            &srv,
            &format!(
                "SELECT COUNT(*) FROM mail_outbox WHERE application_serial = '{}'",
                issued_app.serial
            )
        )
        .await
            > 0
    );
    let r = retention::run(svc, 365, not_after + Duration::days(366))
        .await
        .unwrap();
    assert_eq!(r, vec![issued_app.serial.clone()]);
    assert_eq!(
        personal_data(&srv, &issued_app.serial).await,
        (String::new(), String::new(), String::new(), String::new())
    );
    // Idempotent.
    assert!(
        retention::run(svc, 365, not_after + Duration::days(367))
            .await
            .unwrap()
            .is_empty()
    );

    // What stays: company, serials, bill, certificate; the erasure itself is audited.
    let view = ops
        .get_json(&format!("/api/admin/applications?q={}", unpaid.serial), 200)
        .await;
    let item = &view["items"][0];
    assert_eq!(item["company"]["name"], "台灣報關股份有限公司");
    assert_eq!(item["contact"]["email"], "");
    assert_eq!(item["staff_national_id_masked"], "");
    assert_eq!(item["bill"]["bill_no"], unpaid.bill.unwrap().bill_no);
    assert_eq!(
        count(
            &srv,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'application.personal_data_erased'"
        )
        .await,
        2
    );
    srv.stop().await;
}
both!(retention_erases_contact_and_national_id);
