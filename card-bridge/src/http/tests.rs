//! The HTTP + HiPKI layers with a mock card: routes, origin rules, JSON shapes, error codes.

use std::sync::LazyLock;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use card_auth::testing::{CardSpec, TestCard, TestPki};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

use super::origin::AllowedOrigins;
use super::{AppState, router};
use crate::card::CardError;
use crate::mock::{MockCard, MockReader, MockSlot};

const PORTAL: &str = "http://127.0.0.1:8080";
const HOST: &str = "localhost:61161";
const BRIDGE: &str = "http://localhost:61161";
const TAX_ID: &str = "04595257";
const TBS: &str = "portal-login:3f2a9c.1732500000";

struct Fixture {
    pki: TestPki,
    card: TestCard,
    key_pem: String,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let now = time::OffsetDateTime::now_utc();
    let pki = TestPki::new("Bridge HTTP", now).unwrap();
    let card = pki.issue_card(&CardSpec::new(TAX_ID, now)).unwrap();
    let key_pem = card.key_pkcs8_pem().unwrap();
    Fixture { pki, card, key_pem }
});

fn mock_card() -> MockCard {
    use rsa::pkcs8::DecodePrivateKey;
    MockCard {
        serial: "0A0B0C0D".into(),
        cert_der: FIXTURE.card.cert_der.clone(),
        key: rsa::PrivateKey::from_pkcs8_pem(&FIXTURE.key_pem).unwrap(),
        pin: "123456".into(),
        tries: 3,
    }
}

fn standard_reader() -> MockReader {
    MockReader::new(vec![
        MockSlot::Empty("Empty Reader 0".into()),
        MockSlot::Unknown("Other Card Reader 1".into()),
        MockSlot::Card("Card Reader 2".into(), Box::new(mock_card())),
    ])
}

fn app_with(reader: MockReader) -> (Router, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let touched = reader.touched.clone();
    let allowed = AllowedOrigins::parse(&[PORTAL, "https://portal.example"]).unwrap();
    (
        router(AppState::new(Box::new(reader), allowed, 61161)),
        touched,
    )
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }
}

async fn call(app: &Router, request: Request<Body>) -> Answer {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    Answer {
        status,
        headers,
        body,
    }
}

fn get(path: &str, origin: Option<&str>) -> Request<Body> {
    let mut b = Request::get(path).header("host", HOST);
    if let Some(o) = origin {
        b = b.header("origin", o);
    }
    b.body(Body::empty()).unwrap()
}

fn post_form(origin: Option<&str>, fields: &[(&str, &str)]) -> Request<Body> {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    let mut b = Request::post("/sign")
        .header("host", HOST)
        .header("content-type", "application/x-www-form-urlencoded");
    if let Some(o) = origin {
        b = b.header("origin", o);
    }
    b.body(Body::from(body)).unwrap()
}

fn package(pin: &str, signature_type: &str) -> String {
    serde_json::json!({
        "func": "MakeSignature", "tbs": TBS, "tbsEncoding": "NONE", "hashAlgorithm": "SHA256",
        "pin": pin, "nonce": "", "withCardSN": "true", "signatureType": signature_type,
    })
    .to_string()
}

/// The signature must pass the server's verifier with the test root.
fn assert_verifies(signature_b64: &str, certb64: &str) {
    let cert = card_auth::decode_base64_certificate(certb64).unwrap();
    let intermediates = vec![FIXTURE.pki.intermediate.der.clone()];
    let id = card_auth::verify_login(
        &card_auth::LoginAttempt {
            tbs: TBS.as_bytes(),
            signature_b64,
            certificate_der: &cert,
            intermediates_der: &intermediates,
        },
        &FIXTURE.pki.trust_store(),
        time::OffsetDateTime::now_utc(),
    )
    .unwrap();
    assert_eq!(id.tax_id, TAX_ID);
}

#[tokio::test]
async fn popup_page_has_strict_csp_and_the_allowed_origins() {
    let (app, _) = app_with(standard_reader());
    let a = call(&app, get("/popupForm", None)).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.header("content-type"), Some("text/html; charset=utf-8"));
    let csp = a.header("content-security-policy").unwrap();
    assert!(csp.contains("script-src 'self';"), "{csp}");
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(a.header("x-frame-options"), Some("DENY"));
    let html = String::from_utf8(a.body).unwrap();
    assert!(
        html.contains(r#""allowedOrigins":["http://127.0.0.1:8080","https://portal.example"]"#)
    );

    let js = call(&app, get("/popupForm.js", None)).await;
    assert_eq!(js.status, StatusCode::OK);
    assert_eq!(
        js.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    let js = String::from_utf8(js.body).unwrap();
    let posts: Vec<&str> = js.lines().filter(|l| l.contains("postMessage(")).collect();
    assert_eq!(posts.len(), 2, "{posts:?}");
    for line in posts {
        assert!(
            line.trim_end().ends_with(", origin);"),
            "posts only to a checked origin: {line}"
        );
    }
    assert!(js.contains("allowed.has(event.origin)"));
    assert!(js.contains("event.source !== window.opener"));
    assert!(
        !js.contains("console."),
        "the popup logs nothing (the request has the PIN)"
    );
}

#[tokio::test]
async fn wrong_host_is_refused_before_anything_else() {
    let (app, touched) = app_with(standard_reader());
    let request = Request::get("/pkcs11info")
        .header("host", "evil.example:61161")
        .body(Body::empty())
        .unwrap();
    assert_eq!(
        call(&app, request).await.status,
        StatusCode::MISDIRECTED_REQUEST
    );
    let no_host = Request::get("/popupForm").body(Body::empty()).unwrap();
    assert_eq!(
        call(&app, no_host).await.status,
        StatusCode::MISDIRECTED_REQUEST
    );
    assert_eq!(touched.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn pkcs11info_has_hipki_shape_and_cors_for_the_portal_only() {
    let (app, _) = app_with(standard_reader());
    let a = call(&app, get("/pkcs11info?withcert=true", Some(PORTAL))).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.header("access-control-allow-origin"), Some(PORTAL));
    assert_eq!(a.header("vary"), Some("Origin"));
    let v = a.json();
    assert_eq!(v["func"], "pkcs11info");
    assert_eq!(v["ret_code"], 0);
    assert!(
        v["serverVersion"]
            .as_str()
            .unwrap()
            .starts_with("card-bridge-")
    );
    let slots = v["slots"].as_array().unwrap();
    assert_eq!(slots.len(), 3);
    assert_eq!(slots[0]["slotDescription"], "Empty Reader 0");
    assert!(slots[0].get("token").is_none(), "empty reader has no token");
    assert_eq!(slots[1]["token"], "unknown token");
    let token = &slots[2]["token"];
    assert_eq!(slots[2]["slotID"], 2);
    assert_eq!(token["serialNumber"], "0A0B0C0D");
    let cert = &token["certs"][0];
    assert_eq!(
        STANDARD.decode(cert["certb64"].as_str().unwrap()).unwrap(),
        FIXTURE.card.cert_der
    );
    assert_eq!(cert["usage"], "digitalSignature");
    assert_eq!(cert["subjectID"], TAX_ID);
    assert_eq!(cert["subjectCN"], "測試股份有限公司");
    assert!(
        cert["subjectDN"]
            .as_str()
            .unwrap()
            .ends_with(",serialNumber=04595257")
    );
    let not_after = cert["notAfter"].as_str().unwrap();
    assert!(
        not_after.len() == 13 && not_after.ends_with('Z'),
        "{not_after}"
    );
    assert!(cert["notAfterT"].as_i64().unwrap() > cert["notBeforeT"].as_i64().unwrap());
    let sn = cert["sn"].as_str().unwrap();
    assert!(
        sn.chars()
            .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()),
        "{sn}"
    );

    // Without withcert: the same cards, no certs.
    let v = call(&app, get("/pkcs11info", None)).await;
    assert_eq!(v.header("access-control-allow-origin"), None);
    let v = v.json();
    assert_eq!(v["slots"][2]["token"]["serialNumber"], "0A0B0C0D");
    assert!(v["slots"][2]["token"].get("certs").is_none());
}

#[tokio::test]
async fn foreign_origins_get_403_and_never_reach_the_card() {
    let (app, touched) = app_with(standard_reader());
    for origin in [
        "https://evil.example",
        "null",
        "http://127.0.0.1:8081",
        "https://portal.example.evil",
    ] {
        let a = call(&app, get("/pkcs11info?withcert=true", Some(origin))).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{origin}");
        assert_eq!(a.header("access-control-allow-origin"), None);
        assert_eq!(a.json()["ret_code"], 0x76000031);
        let a = call(
            &app,
            post_form(Some(origin), &[("tbsPackage", &package("123456", "PKCS1"))]),
        )
        .await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{origin}");
        assert_eq!(a.json()["func"], "sign");
        assert_eq!(a.json()["ret_code"], 0x76000031);
    }
    // POST /sign without Origin (not a browser) is refused too.
    let a = call(
        &app,
        post_form(None, &[("tbsPackage", &package("123456", "PKCS1"))]),
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    // The popup may only name an allowed portal.
    let a = call(
        &app,
        post_form(
            Some(BRIDGE),
            &[
                ("tbsPackage", &package("123456", "PKCS1")),
                ("portal", "https://evil.example"),
            ],
        ),
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert_eq!(touched.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn popup_sign_request_returns_a_verifiable_pkcs1_signature() {
    let (app, _) = app_with(standard_reader());
    let a = call(
        &app,
        post_form(
            Some(BRIDGE),
            &[
                ("tbsPackage", &package("123456", "PKCS1")),
                ("portal", PORTAL),
            ],
        ),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(
        a.header("access-control-allow-origin"),
        None,
        "same-origin caller"
    );
    let v = a.json();
    assert_eq!(v["func"], "sign");
    assert_eq!(v["ret_code"], 0);
    assert_eq!(v["last_error"], 0);
    assert_eq!(v["cardSN"], "0A0B0C0D");
    assert_eq!(v["slotDescription"], "Card Reader 2");
    assert_verifies(
        v["signature"].as_str().unwrap(),
        v["certb64"].as_str().unwrap(),
    );
}

#[tokio::test]
async fn portal_may_call_sign_directly_with_json_and_gets_cors() {
    let (app, _) = app_with(standard_reader());
    let request = Request::post("/sign")
        .header("host", HOST)
        .header("origin", PORTAL)
        .header("content-type", "application/json")
        .body(Body::from(package("123456", "PKCS1")))
        .unwrap();
    let a = call(&app, request).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.header("access-control-allow-origin"), Some(PORTAL));
    let v = a.json();
    assert_eq!(v["ret_code"], 0);
    assert_verifies(
        v["signature"].as_str().unwrap(),
        v["certb64"].as_str().unwrap(),
    );
}

#[tokio::test]
async fn wrong_pin_counts_down_then_blocks_with_hipki_codes() {
    let (app, _) = app_with(standard_reader());
    let sign =
        |pin: &'static str| post_form(Some(PORTAL), &[("tbsPackage", &package(pin, "PKCS1"))]);
    let v = call(&app, sign("000000")).await.json();
    assert_eq!(v["ret_code"], 0x76100006);
    assert_eq!(v["last_error"], -2147483646);
    assert_eq!(v["tries_left"], 2);
    assert_eq!(v["message"], "IC卡登入失敗");
    assert_eq!(v["message2"], "PIN碼錯誤，剩餘兩次機會");
    assert!(v.get("signature").is_none());
    let v = call(&app, sign("000000")).await.json();
    assert_eq!(
        (v["last_error"].as_i64(), v["tries_left"].as_i64()),
        (Some(-2147483647), Some(1))
    );
    let v = call(&app, sign("000000")).await.json();
    assert_eq!(
        (v["ret_code"].as_i64(), v["last_error"].as_i64()),
        (Some(0x76100006), Some(0xA4))
    );
    assert_eq!(v["message2"], "已鎖卡");
    // Blocked means blocked, even with the right PIN.
    let v = call(&app, sign("123456")).await.json();
    assert_eq!(v["last_error"], 0xA4);
    // The PIN never appears in an answer.
    assert!(!serde_json::to_string(&v).unwrap().contains("123456"));
}

#[tokio::test]
async fn no_reader_no_card_removed_card_and_no_service_are_distinct() {
    let (app, _) = app_with(MockReader::new(vec![]));
    let v = call(&app, get("/pkcs11info", None)).await.json();
    assert_eq!(v["ret_code"], 0x76100003);
    assert_eq!(v["slots"], serde_json::json!([]));
    let v = call(
        &app,
        post_form(Some(PORTAL), &[("tbsPackage", &package("123456", "PKCS1"))]),
    )
    .await
    .json();
    assert_eq!(v["ret_code"], 0x76100003);

    let (app, _) = app_with(MockReader::new(vec![MockSlot::Empty("Reader".into())]));
    let v = call(
        &app,
        post_form(Some(PORTAL), &[("tbsPackage", &package("123456", "PKCS1"))]),
    )
    .await
    .json();
    assert_eq!(
        (v["ret_code"].as_i64(), v["last_error"].as_i64()),
        (Some(0x76000006), Some(0xE0))
    );

    let mut removed = standard_reader();
    removed.fail_with = Some(CardError::CardRemoved);
    let (app, _) = app_with(removed);
    let v = call(
        &app,
        post_form(Some(PORTAL), &[("tbsPackage", &package("123456", "PKCS1"))]),
    )
    .await
    .json();
    assert_eq!(
        (v["ret_code"].as_i64(), v["last_error"].as_i64()),
        (Some(0x76000006), Some(0x32))
    );

    let mut no_service = standard_reader();
    no_service.fail_with = Some(CardError::NoService);
    let (app, _) = app_with(no_service);
    let v = call(&app, get("/pkcs11info?withcert=true", Some(PORTAL)))
        .await
        .json();
    assert_eq!(v["ret_code"], 0x76100001);
}

#[tokio::test]
async fn bad_packages_get_protocol_codes() {
    let (app, touched) = app_with(standard_reader());
    let cases = [
        ("{not json", 0x7600000B_i64),
        (
            r#"{"func":"MakeSignature","tbs":"x","pin":"123456","hashAlgorithm":"SHA1"}"#,
            0x7600000C,
        ),
        (r#"{"func":"MakeSignature","pin":"123456"}"#, 0x76000003),
        (r#"{"func":"MakeSignature","tbs":"x"}"#, 0x76000998),
        (
            r#"{"func":"MakeSignature","tbs":"x","pin":"123456","signatureType":"RAW"}"#,
            0x76300002,
        ),
    ];
    for (pkg, code) in cases {
        let v = call(&app, post_form(Some(PORTAL), &[("tbsPackage", pkg)]))
            .await
            .json();
        assert_eq!(v["ret_code"], code, "{pkg}");
    }
    let v = call(&app, post_form(Some(PORTAL), &[("other", "x")]))
        .await
        .json();
    assert_eq!(v["ret_code"], 0x76000003);
    assert_eq!(
        touched.load(Ordering::SeqCst),
        0,
        "refused before touching the card"
    );
}

#[tokio::test]
async fn preflight_only_for_allowed_portals() {
    let (app, _) = app_with(standard_reader());
    let preflight = |origin: &str, path: &str| {
        Request::options(path)
            .header("host", HOST)
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-private-network", "true")
            .body(Body::empty())
            .unwrap()
    };
    let a = call(&app, preflight(PORTAL, "/sign")).await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);
    assert_eq!(a.header("access-control-allow-origin"), Some(PORTAL));
    assert_eq!(
        a.header("access-control-allow-private-network"),
        Some("true")
    );
    assert!(
        a.header("access-control-allow-methods")
            .unwrap()
            .contains("POST")
    );
    let a = call(&app, preflight("https://evil.example", "/pkcs11info")).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert_eq!(a.header("access-control-allow-origin"), None);
}

#[tokio::test]
async fn pkcs7_signature_verifies_with_openssl() {
    let (app, _) = app_with(standard_reader());
    let v = call(
        &app,
        post_form(
            Some(BRIDGE),
            &[
                (
                    "tbsPackage",
                    &package("123456", "PKCS7").replace(r#""nonce":"""#, r#""nonce":"n-42""#),
                ),
                ("portal", PORTAL),
            ],
        ),
    )
    .await
    .json();
    assert_eq!(v["ret_code"], 0, "{v}");
    let p7 = STANDARD.decode(v["signature"].as_str().unwrap()).unwrap();
    let content = crate::test_support::openssl_cms_verify(&p7, &FIXTURE.pki);
    assert_eq!(content, TBS.as_bytes());
    let printed = crate::test_support::openssl_cms_print(&p7);
    assert!(
        printed.contains("(1.2.840.113549.1.9.25.3)"),
        "randomNonce attribute: {printed}"
    );
    assert!(
        printed.contains("(2.16.886.1.100.2.204)"),
        "card serial attribute: {printed}"
    );
    assert!(printed.contains("PRINTABLESTRING:0A0B0C0D"), "{printed}");
    assert!(printed.contains("signingTime"), "{printed}");
}
