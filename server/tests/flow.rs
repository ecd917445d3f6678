//! The application flow over HTTP on both databases: create, query, bill and slip, payment,
//! reconciliation, expiry, and every transition allowed and refused.

// Test helpers outside #[test] fns unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Backend, TestServer, code, count, good_form, targeted_form};
use proto::api::{ApplicationView, ImportReport};
use proto::{Action, ApplicationType, BillStatus, CertStatus, ErrorCode, ImportRowCode, Status};
use time::Duration;

/// The rows of a list answer: the applicant's is a `Page`, the operator's a plain array.
fn views(v: serde_json::Value) -> Vec<ApplicationView> {
    match v.get("items") {
        Some(items) => serde_json::from_value(items.clone()).unwrap(),
        None => serde_json::from_value(v).unwrap(),
    }
}

/// The rows of a page of the operator's grid.
fn admin_views(v: serde_json::Value) -> Vec<ApplicationView> {
    serde_json::from_value(v["items"].clone()).unwrap()
}

async fn create_and_query(b: Backend) {
    let srv = TestServer::start(b).await;
    let alice = srv.applicant(common::TAX_ID).await;
    let bob = srv.applicant(common::OTHER_TAX_ID).await;

    // The tax ID in the body is ignored: it comes from the session.
    let mut body = serde_json::to_value(good_form()).unwrap();
    body["tax_id"] = serde_json::json!(common::OTHER_TAX_ID);
    let created: ApplicationView =
        serde_json::from_value(alice.post_ok("/api/applications", &body, 201).await).unwrap();
    assert_eq!(created.tax_id, common::TAX_ID);
    assert_eq!(created.status, Status::Submitted);
    assert_eq!(created.app_type, ApplicationType::New);
    assert_eq!(created.cert_name.as_deref(), Some("SingleWindow-01-B00051"));
    assert_eq!(created.staff_national_id_masked, "A12*******");
    assert_eq!(created.actions, vec![Action::PrintSlip, Action::Withdraw]);
    assert!(created.serial.starts_with("SW"));
    assert_eq!(created.serial.len(), 16);
    assert!(created.serial[2..].bytes().all(|c| c.is_ascii_digit()));
    let second = alice.create(&good_form()).await;
    assert_eq!(second.cert_name.as_deref(), Some("SingleWindow-02-B00051"));
    let seq = |s: &str| s[10..].parse::<u32>().unwrap();
    assert_eq!(seq(&second.serial), seq(&created.serial) + 1);
    bob.create(&good_form()).await;

    // Only the caller's company, newest first.
    let list = views(alice.get_json("/api/applications", 200).await);
    assert_eq!(
        list.iter().map(|a| a.serial.as_str()).collect::<Vec<_>>(),
        vec![second.serial.as_str(), created.serial.as_str()]
    );
    let today = common::today();
    let q = |query: &str| format!("/api/applications?{query}");
    assert_eq!(
        views(
            alice
                .get_json(&q(&format!("from={today}&to={today}")), 200)
                .await
        )
        .len(),
        2
    );
    assert_eq!(
        views(alice.get_json(&q("to=2000-01-01"), 200).await).len(),
        0
    );
    assert_eq!(
        views(alice.get_json(&q("from=2999-01-01"), 200).await).len(),
        0
    );
    assert_eq!(
        views(alice.get_json(&q("status=10&app_type=new"), 200).await).len(),
        2
    );
    assert_eq!(views(alice.get_json(&q("status=20"), 200).await).len(), 0);
    assert_eq!(
        views(alice.get_json(&q("app_type=renew"), 200).await).len(),
        0
    );
    // An applicant cannot widen the scope with the operator's filters.
    let v = alice
        .get_json(&q(&format!("tax_id={}", common::OTHER_TAX_ID)), 200)
        .await;
    assert_eq!(views(v).len(), 2);
    assert_eq!(
        code(&alice.get_json(&q("status=X1"), 400).await),
        ErrorCode::BadRequest
    );
    assert_eq!(
        code(&alice.get_json(&q("from=2026-13-01"), 422).await),
        ErrorCode::ValidationFailed
    );

    // Another company's serial is indistinguishable from an unknown one.
    let v = bob
        .get_json(&format!("/api/applications/{}", created.serial), 404)
        .await;
    assert_eq!(code(&v), ErrorCode::NotFound);
    assert_eq!(
        code(
            &alice
                .get_json("/api/applications/SW00000000000000", 404)
                .await
        ),
        ErrorCode::NotFound
    );

    // The operator sees every company and can search by bill number.
    let ops = srv.operator().await;
    assert_eq!(
        admin_views(ops.get_json("/api/admin/applications", 200).await).len(),
        3
    );
    let bill_no = created.bill.clone().unwrap().bill_no;
    let found = admin_views(
        ops.get_json(&format!("/api/admin/applications?q={bill_no}"), 200)
            .await,
    );
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].serial, created.serial);
    let by_company = admin_views(
        ops.get_json(
            &format!("/api/admin/applications?tax_id={}", common::OTHER_TAX_ID),
            200,
        )
        .await,
    );
    assert_eq!(by_company.len(), 1);
    srv.stop().await;
}
both!(create_and_query);

async fn validation(b: Backend) {
    let srv = TestServer::start(b).await;
    let alice = srv.applicant(common::TAX_ID).await;
    let mut f = good_form();
    f.contact.mobile = "0912-345678".into();
    f.contact.email = "chen@example".into();
    f.contact.phone = "2550-5500".into();
    f.staff_national_id = "A123456788".into();
    f.box_number = "B-51".into();
    f.privacy_consent = false;
    let v = alice.post_ok("/api/applications", &f, 422).await;
    assert_eq!(code(&v), ErrorCode::ValidationFailed);
    let mut fields: Vec<(String, String)> = v["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().into(),
                e["code"].as_str().unwrap().into(),
            )
        })
        .collect();
    fields.sort();
    let expected: Vec<(String, String)> = [
        ("box_number", "format"),
        ("contact.email", "format"),
        ("contact.mobile", "format"),
        ("contact.phone", "format"),
        ("privacy_consent", "consent_required"),
        ("staff_national_id", "checksum"),
    ]
    .iter()
    .map(|(a, b)| ((*a).into(), (*b).into()))
    .collect();
    assert_eq!(fields, expected);

    // Required by certificate kind: an individual needs staff code and ID.
    let mut f = good_form();
    f.staff_code.clear();
    f.staff_national_id.clear();
    let v = alice.post_ok("/api/applications", &f, 422).await;
    let names: Vec<&str> = v["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["staff_code", "staff_national_id"]);
    // A legal person needs neither.
    let mut f = good_form();
    f.cert_kind = Some(proto::CertKind::LegalPerson);
    f.staff_code.clear();
    f.staff_national_id.clear();
    alice.create(&f).await;

    // Broken JSON is bad_request, not a validation error.
    let r = alice
        .http
        .post(srv.url("/api/applications"))
        .header("X-CSRF-Token", alice.csrf.clone().unwrap())
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert_eq!(code(&r.json().await.unwrap()), ErrorCode::BadRequest);

    // The tax ID of a (development) login is checked with the mod-5 rule.
    let mut c = srv.client();
    let r = c
        .http
        .post(srv.url("/api/auth/dev-login"))
        .header("X-Requested-With", "portal")
        .json(&serde_json::json!({"role": "applicant", "tax_id": "12345678"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 422);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["error"]["fields"][0]["field"], "tax_id");
    assert_eq!(v["error"]["fields"][0]["code"], "checksum");
    c.dev_login("applicant", "10458574", "").await;
    assert_eq!(count(&srv, "SELECT COUNT(*) FROM applications").await, 1);
    srv.stop().await;
}
both!(validation);

async fn bill_and_slip(b: Backend) {
    let srv = TestServer::start(b).await;
    let alice = srv.applicant(common::TAX_ID).await;
    let app = alice.create(&good_form()).await;
    let bill = app.bill.clone().unwrap();
    assert_eq!(bill.amount, 2000);
    assert_eq!(bill.status, BillStatus::Unpaid);
    assert!(bill.bill_no.starts_with("AAF"), "{}", bill.bill_no);
    assert_eq!(bill.bill_no.len(), 14);
    let now = server::domain::taipei_date(srv.now());
    let roc = format!("{:03}{:02}", now.year() - 1911, u8::from(now.month()));
    assert_eq!(&bill.bill_no[3..8], roc);
    let created = time::OffsetDateTime::parse(
        &app.created_at,
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let due =
        time::OffsetDateTime::parse(&bill.due_at, &time::format_description::well_known::Rfc3339)
            .unwrap();
    assert_eq!(due - created, Duration::days(14));
    let app2 = alice.create(&good_form()).await;
    assert_ne!(
        app2.bill.unwrap().bill_no,
        bill.bill_no,
        "bill numbers are unique"
    );

    let r = alice
        .get(&format!("/api/applications/{}/slip", app.serial))
        .await;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["content-type"], "text/html; charset=utf-8");
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("style-src 'sha256-"), "{csp}");
    assert!(!csp.contains("unsafe-inline"));
    let html = r.text().await.unwrap();
    assert!(html.contains(&bill.bill_no));
    // The NS11 fields, the same amount text as the bill page (NT$2,000), the virtual
    // account the bill view names, and both copies.
    let account = bill.virtual_account.clone().unwrap();
    assert_eq!(
        proto::payment::virtual_account(&bill.bill_no).as_ref(),
        Some(&account)
    );
    for field in [
        "繳款人統編",
        "繳款人名稱",
        "存款種類",
        "通關專屬憑證費",
        "金額（新臺幣）",
        "NT$2,000（1件）",
        "匯發日期",
        "報單／文件號碼",
        "稅費單號碼",
        "繳費年月",
        "存款機關",
        "收款機構戳記",
        "通匯解款行",
        "通匯解款行代號",
        "戶名",
        "帳號",
        "核章",
        "會計",
        "經辦",
        "第一聯收據",
        "第三聯存根聯",
        "ATM 轉帳",
        "臨櫃繳款",
        account.as_str(),
    ] {
        assert!(html.contains(field), "slip lacks {field}");
    }
    let roc_month = format!("{:03}/{:02}", now.year() - 1911, u8::from(now.month()));
    assert!(html.contains(&roc_month), "繳費年月 {roc_month}");
    assert!(html.contains("台灣報關股份有限公司"));
    assert!(html.contains(common::TAX_ID));
    let due_local = due.to_offset(server::domain::TAIPEI).date();
    assert!(
        html.contains(&server::domain::format_date(due_local)),
        "{html}"
    );
    let bob = srv.applicant(common::OTHER_TAX_ID).await;
    assert_eq!(
        bob.get(&format!("/api/applications/{}/slip", app.serial))
            .await
            .status()
            .as_u16(),
        404
    );
    srv.stop().await;
}
both!(bill_and_slip);

async fn payments(b: Backend) {
    let srv = TestServer::start(b).await;
    let alice = srv.applicant(common::TAX_ID).await;
    let ops = srv.operator().await;
    let app = alice.create(&good_form()).await;
    let bill = app.bill.clone().unwrap();

    // An applicant cannot record payments.
    assert_eq!(code(&alice.post_ok("/api/admin/payments", &serde_json::json!({"bill_no": bill.bill_no, "amount": 2000, "paid_on": common::today()}), 403).await), ErrorCode::Forbidden);
    // Wrong amount and unknown bill are rejected, nothing changes.
    let v =
        serde_json::json!({"bill_no": bill.bill_no, "amount": 1999, "paid_on": common::today()});
    let v = ops.post_ok("/api/admin/payments", &v, 422).await;
    assert_eq!(code(&v), ErrorCode::PaymentRejected);
    assert!(v["error"]["message"].as_str().unwrap().contains("2000"));
    let v = serde_json::json!({"bill_no": "AAF99999999999", "amount": 2000, "paid_on": common::today()});
    assert_eq!(
        code(&ops.post_ok("/api/admin/payments", &v, 422).await),
        ErrorCode::PaymentRejected
    );
    let v = serde_json::json!({"bill_no": bill.bill_no, "amount": 2000, "paid_on": "2999-01-01"});
    assert_eq!(
        code(&ops.post_ok("/api/admin/payments", &v, 422).await),
        ErrorCode::ValidationFailed
    );
    assert_eq!(
        alice.application(&app.serial).await.status,
        Status::Submitted
    );

    // Paid: 10 → 20, bill paid, audit and outbox rows.
    let r = ops.pay(&bill.bill_no, 2000).await;
    assert_eq!(r.status().as_u16(), 200);
    let paid: ApplicationView = r.json().await.unwrap();
    assert_eq!(paid.status, Status::Paid);
    assert_eq!(paid.bill.as_ref().unwrap().status, BillStatus::Paid);
    assert!(
        paid.actions.is_empty(),
        "operators get no applicant actions"
    );
    let mine = alice.application(&app.serial).await;
    assert_eq!(mine.actions, vec![Action::Generate]);
    assert_eq!(
        count(&srv, "SELECT COUNT(*) FROM mail_outbox WHERE kind = 'paid'").await,
        1
    );
    assert_eq!(
        count(
            &srv,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'payment.record'"
        )
        .await,
        1
    );

    // Paying twice is refused.
    let r = ops.pay(&bill.bill_no, 2000).await;
    assert_eq!(r.status().as_u16(), 409);
    assert_eq!(code(&r.json().await.unwrap()), ErrorCode::InvalidTransition);
    assert_eq!(
        count(&srv, "SELECT COUNT(*) FROM mail_outbox WHERE kind = 'paid'").await,
        1
    );
    srv.stop().await;
}
both!(payments);

async fn reconciliation(b: Backend) {
    let srv = TestServer::start(b).await;
    let alice = srv.applicant(common::TAX_ID).await;
    let ops = srv.operator().await;
    let a1 = alice.create(&good_form()).await;
    let a2 = alice.create(&good_form()).await;
    let a3 = alice.create(&good_form()).await;
    let bill = |a: &ApplicationView| a.bill.clone().unwrap().bill_no;
    let today = common::today();

    // One bad line refuses the whole file, with a per-line report; nothing applied.
    let cases = [
        (
            format!("AAF99999999999,2000,{today}"),
            ImportRowCode::UnknownBill,
        ),
        (
            format!("{},1500,{today}", bill(&a3)),
            ImportRowCode::WrongAmount,
        ),
        (
            format!("{},2000,yesterday", bill(&a3)),
            ImportRowCode::Malformed,
        ),
        (format!("{},2000", bill(&a3)), ImportRowCode::Malformed),
        (
            format!("{},2000,{today}", bill(&a1)),
            ImportRowCode::Duplicate,
        ),
    ];
    for (bad, expected) in &cases {
        let csv = format!(
            "bill_no,amount,paid_on\n{},2000,{today}\n{bad}\n",
            bill(&a1)
        );
        let r = ops.post_csv("/api/admin/reconciliation", &csv).await;
        assert_eq!(r.status().as_u16(), 422, "{bad}");
        let v: serde_json::Value = r.json().await.unwrap();
        assert_eq!(code(&v), ErrorCode::PaymentRejected);
        let report: ImportReport = serde_json::from_value(v["error"]["report"].clone()).unwrap();
        assert_eq!(report.rows, 2);
        assert!(report.applied.is_empty());
        assert_eq!(report.errors.len(), 1, "{report:?}");
        assert_eq!(report.errors[0].line, 3);
        assert_eq!(report.errors[0].code, *expected);
        assert_eq!(
            alice.application(&a1.serial).await.status,
            Status::Submitted,
            "{bad}"
        );
    }
    assert_eq!(
        count(&srv, "SELECT COUNT(*) FROM mail_outbox WHERE kind = 'paid'").await,
        0
    );
    assert_eq!(
        count(
            &srv,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'payment.record'"
        )
        .await,
        0
    );

    // A good file applies every line at once.
    let csv = format!(
        "{},2000,{today}\r\n{},\"2,000\",{today}\r\n",
        bill(&a1),
        bill(&a2)
    );
    let r = ops.post_csv("/api/admin/reconciliation", &csv).await;
    assert_eq!(r.status().as_u16(), 200);
    let report: ImportReport = r.json().await.unwrap();
    assert_eq!(report.rows, 2);
    assert_eq!(report.applied, vec![bill(&a1), bill(&a2)]);
    assert!(report.errors.is_empty());
    for a in [&a1, &a2] {
        assert_eq!(alice.application(&a.serial).await.status, Status::Paid);
    }
    assert_eq!(
        count(&srv, "SELECT COUNT(*) FROM mail_outbox WHERE kind = 'paid'").await,
        2
    );

    // Importing the same file again is harmless.
    let r = ops.post_csv("/api/admin/reconciliation", &csv).await;
    let report: ImportReport = r.json().await.unwrap();
    assert!(report.applied.is_empty());
    assert_eq!(report.already_paid.len(), 2);
    // A different record for a paid bill is refused.
    let r = ops
        .post_csv(
            "/api/admin/reconciliation",
            &format!("{},2000,2000-01-01\n", bill(&a1)),
        )
        .await;
    assert_eq!(r.status().as_u16(), 422);

    // A void bill (application expired) is refused.
    srv.clock.advance(Duration::days(14));
    server::run_jobs_once(&srv.state).await;
    assert_eq!(
        alice.application(&a3.serial).await.status,
        Status::Cancelled
    );
    let r = ops
        .post_csv(
            "/api/admin/reconciliation",
            &format!("{},2000,{today}\n", bill(&a3)),
        )
        .await;
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["error"]["report"]["errors"][0]["code"], "void_bill");
    let r = ops.pay(&bill(&a3), 2000).await;
    assert_eq!(r.status().as_u16(), 422);

    // Empty file; non-UTF-8; applicant.
    assert_eq!(
        ops.post_csv("/api/admin/reconciliation", "\n\n")
            .await
            .status()
            .as_u16(),
        422
    );
    assert_eq!(
        alice
            .post_csv("/api/admin/reconciliation", &csv)
            .await
            .status()
            .as_u16(),
        403
    );
    srv.stop().await;
}
both!(reconciliation);

/// Two imports sharing bills, listed in opposite orders, posted at the same time (a bank file
/// sent twice, overlapping statements): both are answered 200, neither fails with a database
/// deadlock, and every bill is paid once.
async fn concurrent_overlapping_imports(b: Backend) {
    let srv = TestServer::start(b).await;
    let alice = srv.applicant(common::TAX_ID).await;
    let ops = srv.operator().await;
    let today = common::today();
    let mut bills = Vec::new();
    for _ in 0..12 {
        bills.push(alice.create(&good_form()).await.bill.unwrap().bill_no);
    }
    let file = |bills: &[String]| -> String {
        bills
            .iter()
            .map(|b| format!("{b},2000,{today}\n"))
            .collect()
    };
    let forward = file(&bills);
    let mut reversed_bills = bills.clone();
    reversed_bills.reverse();
    let reversed = file(&reversed_bills);
    let mut applied = 0;
    for round in 0..5 {
        let (r1, r2) = tokio::join!(
            ops.post_csv("/api/admin/reconciliation", &forward),
            ops.post_csv("/api/admin/reconciliation", &reversed),
        );
        for (r, listed) in [(r1, &bills), (r2, &reversed_bills)] {
            let status = r.status().as_u16();
            let text = r.text().await.unwrap();
            assert_eq!(status, 200, "round {round}: {text}");
            let report: ImportReport = serde_json::from_str(&text).unwrap();
            assert_eq!(report.applied.len() + report.already_paid.len(), 12);
            // The import that got the first bill applies them all, the other waits for it;
            // each report lists its bills in the order of its file.
            for got in [&report.applied, &report.already_paid] {
                if !got.is_empty() {
                    assert_eq!(got, listed, "round {round}");
                }
            }
            applied += report.applied.len();
        }
    }
    assert_eq!(applied, 12, "each bill applied by exactly one import");
    assert_eq!(
        count(&srv, "SELECT COUNT(*) FROM bills WHERE status = 'paid'").await,
        12
    );
    assert_eq!(
        count(
            &srv,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'payment.record'"
        )
        .await,
        12
    );
    srv.stop().await;
}
both!(concurrent_overlapping_imports);

async fn expiry_with_a_moved_clock(b: Backend) {
    let srv = TestServer::start(b).await;
    let alice = srv.applicant(common::TAX_ID).await;
    let ops = srv.operator().await;
    let unpaid = alice.create(&good_form()).await;
    let paid = common::paid_application(&alice, &ops).await;

    // Day 13 (and a bit): still waiting.
    srv.clock.advance(Duration::days(13) + Duration::hours(23));
    server::run_jobs_once(&srv.state).await;
    assert_eq!(
        alice.application(&unpaid.serial).await.status,
        Status::Submitted
    );
    // Day 14: cancelled, bill void, audit, mail.
    srv.clock.advance(Duration::hours(1));
    server::run_jobs_once(&srv.state).await;
    let a = alice.application(&unpaid.serial).await;
    assert_eq!(a.status, Status::Cancelled);
    assert_eq!(a.bill.as_ref().unwrap().status, BillStatus::Void);
    assert!(a.actions.is_empty());
    assert_eq!(alice.application(&paid.serial).await.status, Status::Paid);
    assert_eq!(
        count(
            &srv,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'application.expire'"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &srv,
            "SELECT COUNT(*) FROM mail_outbox WHERE kind = 'cancelled'"
        )
        .await,
        1
    );
    // A second run (or a second instance) does nothing more.
    server::run_jobs_once(&srv.state).await;
    assert_eq!(
        count(
            &srv,
            "SELECT COUNT(*) FROM mail_outbox WHERE kind = 'cancelled'"
        )
        .await,
        1
    );
    // Cancelled is final: no payment, no CSR.
    let r = ops.pay(&a.bill_no(), 2000).await;
    assert_eq!(r.status().as_u16(), 422);
    let r = alice
        .submit_csr(&unpaid.serial, &common::csr_pem(0, "x"))
        .await;
    assert_eq!(r.status().as_u16(), 409);
    assert_eq!(code(&r.json().await.unwrap()), ErrorCode::InvalidTransition);
    srv.stop().await;
}
both!(expiry_with_a_moved_clock);

trait BillNo {
    fn bill_no(&self) -> String;
}
impl BillNo for ApplicationView {
    fn bill_no(&self) -> String {
        self.bill.clone().unwrap().bill_no
    }
}

/// Refused transitions: CSR before payment, targeted types on applications without a
/// certificate, suspend/unsuspend/revoke in the wrong state, another company's target.
async fn transitions(b: Backend) {
    let srv = TestServer::start(b).await;
    let alice = srv.applicant(common::TAX_ID).await;
    let bob = srv.applicant(common::OTHER_TAX_ID).await;
    let ops = srv.operator().await;

    let unpaid = alice.create(&good_form()).await;
    let r = alice
        .submit_csr(&unpaid.serial, &common::csr_pem(0, "x"))
        .await;
    assert_eq!(r.status().as_u16(), 409);
    assert_eq!(code(&r.json().await.unwrap()), ErrorCode::InvalidTransition);
    for t in [
        ApplicationType::Modify,
        ApplicationType::Renew,
        ApplicationType::Revoke,
        ApplicationType::Suspend,
        ApplicationType::Unsuspend,
    ] {
        let v = alice
            .post_ok("/api/applications", &targeted_form(t, &unpaid.serial), 409)
            .await;
        assert_eq!(code(&v), ErrorCode::InvalidTransition, "{t:?} on status 10");
    }

    let (issued, cert) = common::issued_application(&alice, &ops).await;
    let target = issued.serial.clone();
    // Another company's serial as target → not found.
    let v = bob
        .post_ok(
            "/api/applications",
            &targeted_form(ApplicationType::Revoke, &target),
            404,
        )
        .await;
    assert_eq!(code(&v), ErrorCode::NotFound);
    // Unsuspend of a valid certificate is refused.
    let v = alice
        .post_ok(
            "/api/applications",
            &targeted_form(ApplicationType::Unsuspend, &target),
            409,
        )
        .await;
    assert_eq!(code(&v), ErrorCode::InvalidTransition);
    // Suspend → suspended; suspend again refused; unsuspend → valid.
    let s: ApplicationView = serde_json::from_value(
        alice
            .post_ok(
                "/api/applications",
                &targeted_form(ApplicationType::Suspend, &target),
                201,
            )
            .await,
    )
    .unwrap();
    assert_eq!(s.status, Status::Completed);
    assert_eq!(s.target.as_deref(), Some(target.as_str()));
    assert_eq!(
        s.certificate.as_ref().unwrap().status,
        CertStatus::Suspended
    );
    let v = alice
        .post_ok(
            "/api/applications",
            &targeted_form(ApplicationType::Suspend, &target),
            409,
        )
        .await;
    assert_eq!(code(&v), ErrorCode::InvalidTransition);
    let a = alice.application(&target).await;
    assert!(a.actions.contains(&Action::Unsuspend) && !a.actions.contains(&Action::Suspend));
    alice
        .post_ok(
            "/api/applications",
            &targeted_form(ApplicationType::Unsuspend, &target),
            201,
        )
        .await;
    assert_eq!(
        alice.application(&target).await.certificate.unwrap().status,
        CertStatus::Valid
    );
    // Operator endpoints follow the same rules.
    let path = |a: &str| format!("/api/admin/certificates/{}/{a}", cert.serial_hex);
    let reason = serde_json::json!({"reason": "test"});
    assert_eq!(
        code(&ops.post_ok(&path("unsuspend"), &reason, 409).await),
        ErrorCode::InvalidTransition
    );
    assert_eq!(
        ops.post_ok(&path("suspend"), &reason, 200).await["status"],
        "suspended"
    );
    assert_eq!(
        ops.post_ok(&path("unsuspend"), &reason, 200).await["status"],
        "valid"
    );
    assert_eq!(
        code(&ops.post_ok(&path("frobnicate"), &reason, 404).await),
        ErrorCode::NotFound
    );
    assert_eq!(
        code(
            &ops.post_ok("/api/admin/certificates/00ff/revoke", &reason, 404)
                .await
        ),
        ErrorCode::NotFound
    );
    assert_eq!(
        code(&alice.post_ok(&path("revoke"), &reason, 403).await),
        ErrorCode::Forbidden
    );
    // Revoke (applicant), then everything on it is refused, revoke included.
    alice
        .post_ok(
            "/api/applications",
            &targeted_form(ApplicationType::Revoke, &target),
            201,
        )
        .await;
    for t in [
        ApplicationType::Revoke,
        ApplicationType::Suspend,
        ApplicationType::Unsuspend,
        ApplicationType::Modify,
        ApplicationType::Renew,
    ] {
        let v = alice
            .post_ok("/api/applications", &targeted_form(t, &target), 409)
            .await;
        assert_eq!(code(&v), ErrorCode::InvalidTransition, "{t:?} after revoke");
    }
    assert_eq!(
        code(&ops.post_ok(&path("revoke"), &reason, 409).await),
        ErrorCode::InvalidTransition
    );
    let a = alice.application(&target).await;
    assert_eq!(a.certificate.unwrap().status, CertStatus::Revoked);
    assert_eq!(a.actions, vec![Action::Download]);
    // A targeted application may not point at another targeted one.
    let requests = views(
        alice
            .get_json("/api/applications?app_type=revoke", 200)
            .await,
    );
    let v = alice
        .post_ok(
            "/api/applications",
            &targeted_form(ApplicationType::Suspend, &requests[0].serial),
            422,
        )
        .await;
    assert_eq!(v["error"]["fields"][0]["field"], "target");
    // Audit rows for every certificate change.
    assert_eq!(
        count(
            &srv,
            "SELECT COUNT(*) FROM audit_log WHERE action LIKE 'certificate.%suspend'"
        )
        .await,
        4
    );
    assert_eq!(
        count(
            &srv,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'certificate.revoke'"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &srv,
            "SELECT COUNT(*) FROM mail_outbox WHERE kind = 'revoked'"
        )
        .await,
        1
    );
    srv.stop().await;
}
both!(transitions);

/// The operator's search result for one application serial.
async fn ops_view(ops: &common::Client, serial: &str) -> ApplicationView {
    let list = admin_views(
        ops.get_json(&format!("/api/admin/applications?q={serial}"), 200)
            .await,
    );
    assert_eq!(list.len(), 1);
    list.into_iter().next().unwrap()
}

/// The buttons of both pages come from the transition table: each role gets exactly the rows
/// it may fire in the current state, and the operator's buttons work.
async fn actions_follow_the_table(b: Backend) {
    let srv = TestServer::start(b).await;
    let alice = srv.applicant(common::TAX_ID).await;
    let ops = srv.operator().await;
    let app = alice.create(&good_form()).await;
    assert_eq!(app.actions, vec![Action::PrintSlip, Action::Withdraw]);
    let op = ops_view(&ops, &app.serial).await;
    assert_eq!(op.actions, vec![Action::RecordPayment]);

    // The operator's button works; then nothing is left for operators until issuance.
    let bill = op.bill.unwrap();
    let paid: ApplicationView = ops
        .pay(&bill.bill_no, bill.amount)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(paid.status, Status::Paid);
    assert!(paid.actions.is_empty());
    assert_eq!(
        alice.application(&app.serial).await.actions,
        vec![Action::Generate]
    );

    let r = alice
        .submit_csr(&app.serial, &common::csr_pem(0, "ignored"))
        .await;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        ops_view(&ops, &app.serial).await.actions,
        vec![Action::Revoke, Action::Suspend]
    );
    let serial_hex = alice
        .application(&app.serial)
        .await
        .certificate
        .unwrap()
        .serial_hex;
    let reason = serde_json::json!({"reason": "table test"});
    ops.post_ok(
        &format!("/api/admin/certificates/{serial_hex}/suspend"),
        &reason,
        200,
    )
    .await;
    assert_eq!(
        ops_view(&ops, &app.serial).await.actions,
        vec![Action::Revoke, Action::Unsuspend]
    );
    assert_eq!(
        alice.application(&app.serial).await.actions,
        vec![Action::Download, Action::Change, Action::Revoke]
    );
    // An operator's hold is lifted by an operator only (issue 12.2): no Unsuspend for alice.

    // A cancelled application offers the operator nothing.
    let unpaid = alice.create(&good_form()).await;
    srv.clock.advance(Duration::days(15));
    server::run_jobs_once(&srv.state).await;
    let op = ops_view(&ops, &unpaid.serial).await;
    assert_eq!(op.status, Status::Cancelled);
    assert!(op.actions.is_empty());
    srv.stop().await;
}
both!(actions_follow_the_table);

async fn modify_and_renew(b: Backend) {
    let srv = TestServer::start(b).await;
    let alice = srv.applicant(common::TAX_ID).await;
    let ops = srv.operator().await;
    let (issued, first_cert) = common::issued_application(&alice, &ops).await;

    // Modify: company and contact change on the target at once; certificate data stays.
    let mut f = targeted_form(ApplicationType::Modify, &issued.serial);
    f.company.name = "新名稱股份有限公司".into();
    f.contact.email = "new@example.com.tw".into();
    f.box_number = "ZZZ".into();
    let m: ApplicationView =
        serde_json::from_value(alice.post_ok("/api/applications", &f, 201).await).unwrap();
    assert_eq!(m.status, Status::Completed);
    assert_eq!(m.app_type, ApplicationType::Modify);
    assert_eq!(m.box_number, "B00051");
    assert!(m.bill.is_none());
    let t = alice.application(&issued.serial).await;
    assert_eq!(t.company.name, "新名稱股份有限公司");
    assert_eq!(t.contact.email, "new@example.com.tw");
    assert_eq!(t.box_number, "B00051");

    // Renew: a new application 10 → 20 → A0 with a new key, name and serial.
    let r: ApplicationView = serde_json::from_value(
        alice
            .post_ok(
                "/api/applications",
                &targeted_form(ApplicationType::Renew, &issued.serial),
                201,
            )
            .await,
    )
    .unwrap();
    assert_eq!(r.status, Status::Submitted);
    assert_eq!(r.target.as_deref(), Some(issued.serial.as_str()));
    assert_eq!(r.cert_name.as_deref(), Some("SingleWindow-02-B00051"));
    assert_eq!(r.bill.as_ref().unwrap().amount, 2000);
    // Only one renewal at a time.
    let v = alice
        .post_ok(
            "/api/applications",
            &targeted_form(ApplicationType::Renew, &issued.serial),
            409,
        )
        .await;
    assert_eq!(code(&v), ErrorCode::InvalidTransition);
    assert_eq!(
        ops.pay(&r.bill.clone().unwrap().bill_no, 2000)
            .await
            .status()
            .as_u16(),
        200
    );
    let resp = alice.submit_csr(&r.serial, &common::csr_pem(1, "x")).await;
    assert_eq!(resp.status().as_u16(), 200);
    let renewed: proto::api::IssuedCertificate = resp.json().await.unwrap();
    assert_ne!(renewed.serial_hex, first_cert.serial_hex);
    assert_eq!(renewed.cert_name, "SingleWindow-02-B00051");
    let r = alice.application(&r.serial).await;
    assert_eq!(r.status, Status::Completed);
    // The old certificate stays valid until it expires or is revoked.
    assert_eq!(
        alice
            .application(&issued.serial)
            .await
            .certificate
            .unwrap()
            .status,
        CertStatus::Valid
    );
    srv.stop().await;
}
both!(modify_and_renew);

async fn audit_is_append_only(b: Backend) {
    let srv = TestServer::start(b).await;
    let alice = srv.applicant(common::TAX_ID).await;
    let ops = srv.operator().await;
    let (app, cert) = common::issued_application(&alice, &ops).await;
    let entries: Vec<proto::api::AuditEntry> = serde_json::from_value(
        ops.get_json(&format!("/api/admin/audit?application={}", app.serial), 200)
            .await,
    )
    .unwrap();
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        vec!["certificate.issue", "payment.record", "application.submit"]
    );
    let issue = &entries[0];
    assert_eq!(
        issue.certificate_serial.as_deref(),
        Some(cert.serial_hex.as_str())
    );
    assert_eq!(issue.csr_sha256.as_deref().map(str::len), Some(64));
    assert_eq!(issue.actor, format!("applicant:{}", common::TAX_ID));
    assert_eq!(entries[1].actor, "operator:ops");
    assert!(!issue.detail.contains("PRIVATE"));
    // Paging and limits.
    let page: Vec<proto::api::AuditEntry> = serde_json::from_value(
        ops.get_json(
            &format!("/api/admin/audit?limit=1&before_id={}", issue.id),
            200,
        )
        .await,
    )
    .unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].action, "payment.record");
    let today = common::today();
    let v = ops
        .get_json(&format!("/api/admin/audit?from={today}&to={today}"), 200)
        .await;
    // Today's entries: the application's three and the harness's `operator.add` (operators
    // log in with a password account since the development login is for applicants only).
    let today_actions: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(
        today_actions,
        vec![
            "certificate.issue",
            "payment.record",
            "application.submit",
            "operator.add"
        ]
    );
    assert_eq!(alice.get("/api/admin/audit").await.status().as_u16(), 403);

    // The database itself refuses to change or delete entries.
    let pool = &srv.state.svc.db.pool;
    assert!(
        sqlx::query("UPDATE audit_log SET actor = 'x'")
            .execute(pool)
            .await
            .is_err()
    );
    assert!(
        sqlx::query("DELETE FROM audit_log")
            .execute(pool)
            .await
            .is_err()
    );
    assert_eq!(count(&srv, "SELECT COUNT(*) FROM audit_log").await, 4);

    // Mail list for operators.
    let mail = ops.get_json("/api/admin/mail", 200).await;
    assert_eq!(mail.as_array().unwrap().len(), 3);
    assert_eq!(
        ops.get_json("/api/admin/mail?state=failed", 200).await,
        serde_json::json!([])
    );
    srv.stop().await;
}
both!(audit_is_append_only);

/// The expiry at the domain level, with `now` passed in.
async fn domain_expiry(b: Backend) {
    let srv = TestServer::start(b).await;
    let alice = srv.applicant(common::TAX_ID).await;
    let app = alice.create(&good_form()).await;
    let t0 = srv.now();
    let svc = &srv.state.svc;
    let cancelled = server::domain::expiry::run(svc, t0 + Duration::days(13))
        .await
        .unwrap();
    assert!(cancelled.is_empty());
    let cancelled = server::domain::expiry::run(svc, t0 + Duration::days(14))
        .await
        .unwrap();
    assert_eq!(cancelled, vec![app.serial.clone()]);
    let again = server::domain::expiry::run(svc, t0 + Duration::days(15))
        .await
        .unwrap();
    assert!(again.is_empty());
    // Two instances at once: each application is cancelled exactly once.
    let more: Vec<_> = create_five(&alice).await;
    let (a, b2) = tokio::join!(
        server::domain::expiry::run(svc, t0 + Duration::days(30)),
        server::domain::expiry::run(svc, t0 + Duration::days(30)),
    );
    let mut all = a.unwrap();
    all.extend(b2.unwrap());
    all.sort();
    let mut expected = more;
    expected.sort();
    assert_eq!(all, expected);
    assert_eq!(
        count(
            &srv,
            "SELECT COUNT(*) FROM mail_outbox WHERE kind = 'cancelled'"
        )
        .await,
        6
    );
    srv.stop().await;
}
both!(domain_expiry);

async fn create_five(alice: &common::Client) -> Vec<String> {
    let mut out = Vec::new();
    for _ in 0..5 {
        out.push(alice.create(&good_form()).await.serial);
    }
    out
}

/// `POST /api/applications` with `Idempotency-Key`: a retry after a lost answer returns the
/// application the first request made (no second application, bill, audit row or mail).
async fn idempotent_create(b: Backend) {
    let srv = TestServer::start(b).await;
    let alice = srv.applicant(common::TAX_ID).await;
    let bob = srv.applicant(common::OTHER_TAX_ID).await;
    let ops = srv.operator().await;
    let send = |c: &common::Client, key: &str, form: &proto::api::ApplicationForm| {
        let req = c
            .http
            .post(srv.url("/api/applications"))
            .header("X-CSRF-Token", c.csrf.clone().unwrap())
            .header("Idempotency-Key", key)
            .json(form);
        async move {
            let r = req.send().await.unwrap();
            let status = r.status().as_u16();
            (status, r.json::<serde_json::Value>().await.unwrap())
        }
    };
    let serial_of = |v: &serde_json::Value| v["serial"].as_str().unwrap().to_owned();
    let rows = |sql: &'static str| count(&srv, sql);

    let key = "3f2c9a1e-6b7d-4c1a-9e2f-5a6b7c8d9e0f";
    let (s1, first) = send(&alice, key, &good_form()).await;
    assert_eq!(s1, 201, "{first}");
    let (s2, again) = send(&alice, key, &good_form()).await;
    assert_eq!(s2, 200, "{again}");
    assert_eq!(serial_of(&again), serial_of(&first));
    assert_eq!(again["bill"]["bill_no"], first["bill"]["bill_no"]);
    assert_eq!(rows("SELECT COUNT(*) FROM applications").await, 1);
    assert_eq!(rows("SELECT COUNT(*) FROM bills").await, 1);
    assert_eq!(
        rows("SELECT COUNT(*) FROM audit_log WHERE action = 'application.submit'").await,
        1
    );
    assert_eq!(rows("SELECT COUNT(*) FROM mail_outbox").await, 1);

    // The replay shows the application as it is now, not as it was.
    let bill_no = first["bill"]["bill_no"].as_str().unwrap().to_owned();
    assert_eq!(ops.pay(&bill_no, 2000).await.status().as_u16(), 200);
    let (s3, later) = send(&alice, key, &good_form()).await;
    assert_eq!(s3, 200);
    assert_eq!(later["status"], "20");

    // Same key, different form: refused, nothing made.
    let mut other = good_form();
    other.contact.email = "someone.else@example.com.tw".into();
    let (s4, v) = send(&alice, key, &other).await;
    assert_eq!(s4, 409, "{v}");
    assert_eq!(code(&v), ErrorCode::IdempotencyKeyReused);
    assert_eq!(rows("SELECT COUNT(*) FROM applications").await, 1);

    // Keys are per company: another company's identical key is a new request.
    let (s5, bobs) = send(&bob, key, &good_form()).await;
    assert_eq!(s5, 201, "{bobs}");
    assert_eq!(bobs["tax_id"], common::OTHER_TAX_ID);
    assert_ne!(serial_of(&bobs), serial_of(&first));

    // Malformed keys are a field error, not silently ignored.
    for bad in [
        "short",
        &"x".repeat(129),
        "has space inside",
        "ключ-ключ-ключ",
    ] {
        let (s, v) = send(&alice, bad, &good_form()).await;
        assert_eq!(s, 422, "{bad}: {v}");
        assert_eq!(v["error"]["fields"][0]["field"], "idempotency_key", "{bad}");
    }
    // Without a key every POST is a new application (the header is optional).
    alice.create(&good_form()).await;
    alice.create(&good_form()).await;
    assert_eq!(
        rows("SELECT COUNT(*) FROM applications WHERE tax_id = '12345675'").await,
        3
    );

    // Many tabs/retries with one key at the same moment: exactly one application.
    let key = "concurrent-retry-0001";
    let tasks: Vec<_> = (0..8)
        .map(|_| tokio::spawn(send(&alice, key, &good_form())))
        .collect();
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    let created = answers.iter().filter(|(s, _)| *s == 201).count();
    let replayed = answers.iter().filter(|(s, _)| *s == 200).count();
    assert_eq!((created, replayed), (1, 7), "{answers:?}");
    let serials: std::collections::BTreeSet<_> =
        answers.iter().map(|(_, v)| serial_of(v)).collect();
    assert_eq!(serials.len(), 1, "{serials:?}");
    assert_eq!(
        rows("SELECT COUNT(*) FROM applications WHERE tax_id = '12345675'").await,
        4
    );
    assert_eq!(rows("SELECT COUNT(*) FROM application_requests").await, 3);
    // Every application still has exactly one submit audit row and one mail.
    assert_eq!(
        rows("SELECT COUNT(*) FROM audit_log WHERE action = 'application.submit'").await,
        rows("SELECT COUNT(*) FROM applications").await
    );
    assert_eq!(
        rows("SELECT COUNT(*) FROM mail_outbox WHERE kind = 'submitted'").await,
        rows("SELECT COUNT(*) FROM applications").await
    );
    srv.stop().await;
}
both!(idempotent_create);

/// The applicant's list is a `Page`: newest first, `page_size` rows, the total on every page,
/// a page past the end answering the last one, an unknown size the default.
async fn paging(b: Backend) {
    // 23 applications in one day: more than the default daily limit per company.
    let srv = TestServer::start_with(b, |c| c.server.applications_per_company_per_day = 0).await;
    let alice = srv.applicant(common::TAX_ID).await;
    let bob = srv.applicant(common::OTHER_TAX_ID).await;
    let mut serials = Vec::new();
    for _ in 0..23 {
        serials.push(alice.create(&good_form()).await.serial);
    }
    bob.create(&good_form()).await;
    serials.reverse();
    let page = |q: &str| {
        let alice = alice.clone();
        let q = q.to_owned();
        async move {
            let v = alice.get_json(&format!("/api/applications?{q}"), 200).await;
            serde_json::from_value::<proto::api::Page<ApplicationView>>(v).unwrap()
        }
    };
    let p1 = page("").await;
    assert_eq!((p1.page, p1.page_size, p1.total), (1, 10, 23));
    assert_eq!((p1.pages(), p1.first(), p1.last()), (3, 1, 10));
    let got: Vec<_> = p1.items.iter().map(|a| a.serial.clone()).collect();
    assert_eq!(got, serials[..10]);
    let p3 = page("page=3").await;
    assert_eq!(
        (p3.page, p3.items.len(), p3.first(), p3.last()),
        (3, 3, 21, 23)
    );
    assert_eq!(p3.items[2].serial, serials[22]);
    let past = page("page=99").await;
    assert_eq!(past.page, 3);
    let big = page("page_size=20&page=2").await;
    assert_eq!((big.page_size, big.items.len()), (20, 3));
    assert_eq!(page("page_size=7").await.page_size, 10);
    // Filters narrow the total too.
    let none = page("status=20").await;
    assert_eq!((none.total, none.pages(), none.items.len()), (0, 1, 0));
    assert_eq!(
        code(&alice.get_json("/api/applications?page=x", 400).await),
        ErrorCode::BadRequest
    );
    srv.stop().await;
}
both!(paging);

/// 撤回: the owner withdraws an unpaid application: A9, bill void, audited, a mail queued;
/// a paid one, another company's and a second withdrawal are refused.
async fn withdraw(b: Backend) {
    let srv = TestServer::start(b).await;
    let alice = srv.applicant(common::TAX_ID).await;
    let bob = srv.applicant(common::OTHER_TAX_ID).await;
    let ops = srv.operator().await;
    let app = alice.create(&good_form()).await;
    assert!(app.actions.contains(&Action::Withdraw));
    let path = format!("/api/applications/{}/withdraw", app.serial);
    assert_eq!(
        code(&bob.post_ok(&path, &(), 404).await),
        ErrorCode::NotFound
    );
    assert_eq!(
        code(&ops.post_ok(&path, &(), 403).await),
        ErrorCode::Forbidden
    );
    let mails_before = count(&srv, "SELECT COUNT(*) FROM mail_outbox").await;
    let v: ApplicationView = serde_json::from_value(alice.post_ok(&path, &(), 200).await).unwrap();
    assert_eq!(v.status, Status::Cancelled);
    assert_eq!(v.bill.as_ref().unwrap().status, BillStatus::Void);
    assert!(v.actions.is_empty(), "{:?}", v.actions);
    assert_eq!(
        count(
            &srv,
            "SELECT COUNT(*) FROM mail_outbox WHERE kind = 'withdrawn'"
        )
        .await,
        1
    );
    assert_eq!(
        count(&srv, "SELECT COUNT(*) FROM mail_outbox").await,
        mails_before + 1
    );
    assert_eq!(
        count(
            &srv,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'application.withdraw'"
        )
        .await,
        1
    );
    assert_eq!(
        code(&alice.post_ok(&path, &(), 409).await),
        ErrorCode::InvalidTransition
    );
    // The void bill cannot be paid afterwards.
    let r = ops.pay(&app.bill.unwrap().bill_no, 2000).await;
    assert_eq!(r.status().as_u16(), 422, "{}", r.text().await.unwrap());
    // Paid: too late to withdraw.
    let paid = common::paid_application(&alice, &ops).await;
    assert!(!paid.actions.contains(&Action::Withdraw));
    let v = alice
        .post_ok(
            &format!("/api/applications/{}/withdraw", paid.serial),
            &(),
            409,
        )
        .await;
    assert_eq!(code(&v), ErrorCode::InvalidTransition);
    srv.stop().await;
}
both!(withdraw);

/// 繳納證號: given when the operator records the payment and when the bank file is
/// imported; unique; shown on the bill of the applicant's view.
async fn receipt_numbers(b: Backend) {
    let srv = TestServer::start(b).await;
    let alice = srv.applicant(common::TAX_ID).await;
    let ops = srv.operator().await;
    let unpaid = alice.create(&good_form()).await;
    assert_eq!(unpaid.bill.as_ref().unwrap().receipt_no, None);
    let paid = common::paid_application(&alice, &ops).await;
    let first = paid.bill.unwrap().receipt_no.unwrap();
    let now = server::domain::taipei_date(srv.now());
    let prefix = format!("PAY{:03}{:02}", now.year() - 1911, u8::from(now.month()));
    assert!(first.starts_with(&prefix), "{first}");
    assert_eq!(first.len(), 14);
    // Imported from the bank file.
    let imported = alice.create(&good_form()).await;
    let bill_no = imported.bill.unwrap().bill_no;
    let csv = format!(
        "bill_no,amount,paid_on\n{bill_no},2000,{}\n",
        common::today()
    );
    let r = ops.post_csv("/api/admin/reconciliation", &csv).await;
    assert_eq!(r.status().as_u16(), 200, "{}", r.text().await.unwrap());
    let second = alice
        .application(&imported.serial)
        .await
        .bill
        .unwrap()
        .receipt_no
        .unwrap();
    assert!(second.starts_with(&prefix), "{second}");
    assert_ne!(first, second);
    assert_eq!(
        count(
            &srv,
            "SELECT COUNT(DISTINCT receipt_no) FROM bills WHERE receipt_no IS NOT NULL"
        )
        .await,
        2
    );
    srv.stop().await;
}
both!(receipt_numbers);

/// 檢視's history: the application's audit rows and its certificate's, oldest first, with
/// who acted as a role; another company's serial is `not_found`.
async fn history(b: Backend) {
    let srv = TestServer::start(b).await;
    let alice = srv.applicant(common::TAX_ID).await;
    let bob = srv.applicant(common::OTHER_TAX_ID).await;
    let ops = srv.operator().await;
    let (app, _) = common::issued_application(&alice, &ops).await;
    let v = alice
        .get_json(&format!("/api/applications/{}/history", app.serial), 200)
        .await;
    let h: Vec<proto::api::HistoryEntry> = serde_json::from_value(v.clone()).unwrap();
    let actions: Vec<_> = h.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        ["application.submit", "payment.record", "certificate.issue"]
    );
    use proto::api::HistoryActor;
    assert_eq!(
        h.iter().map(|e| e.by).collect::<Vec<_>>(),
        [
            HistoryActor::Applicant,
            HistoryActor::Operator,
            HistoryActor::Applicant
        ]
    );
    // An operator's username never reaches the applicant.
    assert!(!v.to_string().contains("operator:"), "{v}");
    for a in &actions {
        assert_ne!(proto::history::action_words(a, proto::Lang::ZhTw), *a);
    }
    assert_eq!(
        code(
            &bob.get_json(&format!("/api/applications/{}/history", app.serial), 404)
                .await
        ),
        ErrorCode::NotFound
    );
    srv.stop().await;
}
both!(history);
