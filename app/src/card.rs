//! IC-card login through a HiPKI-compatible local component (card-bridge, or the official
//! HiPKI Local Server) at `http://localhost:61161`: the page opens its `/popupForm`, the
//! popup says `{"func":"getTbs"}`, we answer with one MakeSignature request (the server's
//! challenge and the PIN), the popup answers with the PKCS#1 signature and the card's
//! certificate, which the server verifies.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::Promise;
use proto::api::CardChallenge;
use serde_json::{Value, json};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{MessageEvent, Window};

const STORAGE_KEY: &str = "portal.cardBridge";
const DEFAULT_BRIDGE: &str = "http://localhost:61161";
/// How long the user has to enter the card and let the component answer.
const TIMEOUT_MS: i32 = 90_000;
/// How long the popup has to say `getTbs`. A running component on this machine loads its
/// popup in well under a second; when nothing listens, the popup only shows the browser's
/// error page and never speaks, so waiting the full signing time would leave the user
/// staring at a spinner instead of the "not running" message.
const READY_TIMEOUT_MS: i32 = 10_000;

/// Where the local component listens (localStorage `portal.cardBridge` overrides it,
/// e.g. for another port).
pub fn bridge_url() -> String {
    leptos::prelude::window()
        .local_storage()
        .ok()
        .flatten()
        .and_then(|s| s.get_item(STORAGE_KEY).ok().flatten())
        .filter(|s| s.starts_with("http://") || s.starts_with("https://"))
        .unwrap_or_else(|| DEFAULT_BRIDGE.to_owned())
        .trim_end_matches('/')
        .to_owned()
}

#[derive(Debug, Clone, PartialEq)]
pub enum CardError {
    /// The browser blocked the popup.
    PopupBlocked,
    /// No answer in time (component not installed or not running).
    NoComponent,
    /// The component refused: wrong PIN, no card, ... (its own message).
    Refused(String),
    Other(String),
}

/// The popup and the messages it will send, set up synchronously in the click handler:
/// browsers allow `window.open` only there, and the popup may speak before any await.
pub struct Popup {
    window: Window,
    origin: String,
    ready: Promise,
}

fn origin_of(url: &str) -> Option<String> {
    web_sys::Url::new(url).ok().map(|u| u.origin())
}

/// The message listener; it removes itself after the first matching message.
type Listener = Closure<dyn FnMut(MessageEvent)>;

/// A promise for the next message from `origin` whose JSON has `func == want`; rejected
/// after `timeout_ms`.
fn next_message(origin: String, want: &'static str, timeout_ms: i32) -> Promise {
    Promise::new(&mut move |resolve, reject| {
        let window = leptos::prelude::window();
        let slot: Rc<RefCell<Option<Listener>>> = Rc::default();
        let slot2 = slot.clone();
        let origin = origin.clone();
        let w2 = window.clone();
        let cb = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
            if ev.origin() != origin {
                return;
            }
            let data = ev.data();
            let text = data
                .as_string()
                .or_else(|| {
                    js_sys::JSON::stringify(&data)
                        .ok()
                        .and_then(|s| s.as_string())
                })
                .unwrap_or_default();
            let Ok(v) = serde_json::from_str::<Value>(&text) else {
                return;
            };
            if v.get("func").and_then(Value::as_str) != Some(want) {
                return;
            }
            if let Some(cb) = slot2.borrow_mut().take() {
                let _ =
                    w2.remove_event_listener_with_callback("message", cb.as_ref().unchecked_ref());
            }
            let _ = resolve.call1(&JsValue::NULL, &JsValue::from_str(&text));
        });
        let _ = window.add_event_listener_with_callback("message", cb.as_ref().unchecked_ref());
        let timeout = Closure::once_into_js(move || {
            let _ = reject.call1(&JsValue::NULL, &JsValue::from_str("timeout"));
        });
        let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(
            timeout.unchecked_ref(),
            timeout_ms,
        );
        *slot.borrow_mut() = Some(cb);
    })
}

impl Popup {
    pub fn open() -> Result<Popup, CardError> {
        let bridge = bridge_url();
        let origin = origin_of(&bridge).ok_or_else(|| CardError::Other(bridge.clone()))?;
        let ready = next_message(origin.clone(), "getTbs", READY_TIMEOUT_MS);
        let window = leptos::prelude::window()
            .open_with_url_and_target_and_features(
                &format!("{bridge}/popupForm"),
                "hipki-popup",
                "width=460,height=360",
            )
            .ok()
            .flatten()
            .ok_or(CardError::PopupBlocked)?;
        Ok(Popup {
            window,
            origin,
            ready,
        })
    }

    /// Has the card sign the challenge; returns (signature, certificate), both base64.
    pub async fn sign(
        self,
        challenge: &CardChallenge,
        pin: &str,
    ) -> Result<(String, String), CardError> {
        if JsFuture::from(self.ready).await.is_err() {
            let _ = self.window.close();
            return Err(CardError::NoComponent);
        }
        let answer = next_message(self.origin.clone(), "sign", TIMEOUT_MS);
        let request = json!({
            "func": "MakeSignature",
            "signatureType": "PKCS1",
            "tbs": challenge.tbs,
            "tbsEncoding": "NONE",
            "hashAlgorithm": challenge.hash_algorithm,
            "pin": pin,
            "withCardSN": "false",
        });
        self.window
            .post_message(&JsValue::from_str(&request.to_string()), &self.origin)
            .map_err(|_| CardError::NoComponent)?;
        let text = match JsFuture::from(answer).await {
            Ok(t) => t.as_string().unwrap_or_default(),
            Err(_) => {
                let _ = self.window.close();
                return Err(CardError::NoComponent);
            }
        };
        let v: Value = serde_json::from_str(&text).map_err(|e| CardError::Other(e.to_string()))?;
        let field = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        if v.get("ret_code").and_then(Value::as_i64) != Some(0) {
            let msg = [field("message"), field("message2")]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            return Err(CardError::Refused(msg));
        }
        match (field("signature"), field("certb64")) {
            (Some(s), Some(c)) => Ok((s, c)),
            _ => Err(CardError::Other("incomplete answer".into())),
        }
    }

    pub fn close(&self) {
        let _ = self.window.close();
    }
}
