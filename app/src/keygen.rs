//! The keygen package (built from wasm-keygen) imported at runtime, as any other portal
//! would: the app's own wasm carries no RSA code. It is loaded with a dynamic `import()` the
//! first time a page needs it (generate, the key list on the query page), so the login and
//! other pages never download it. Its URL comes from `<meta name="portal-keygen">`, which the
//! release build (`cargo xtask web`) points at the content-hashed copy; without it (the
//! `trunk serve` dev loop) the package's stable path `/keygen/index.js` is used. The private
//! key stays in JavaScript objects (and the encrypted IndexedDB vault); Rust only passes
//! handles around.

use std::cell::RefCell;

use js_sys::{Object, Reflect, Uint8Array};
use leptos::prelude::*;
use wasm_bindgen::prelude::*;

use crate::session::Session;

// A failed import (a network blip) is forgotten so the next attempt retries.
#[wasm_bindgen(inline_js = "
let loading = null;
export function load_keygen() {
  if (!loading) {
    const meta = document.querySelector('meta[name=\"portal-keygen\"]');
    const url = (meta && meta.content) || '/keygen/index.js';
    loading = import(url).catch((e) => { loading = null; throw e; });
  }
  return loading;
}")]
extern "C" {
    #[wasm_bindgen(catch)]
    async fn load_keygen() -> std::result::Result<JsValue, JsValue>;
}

#[wasm_bindgen]
extern "C" {
    /// The package's module namespace.
    type Module;

    #[wasm_bindgen(method, js_name = init, catch)]
    async fn js_init(this: &Module) -> std::result::Result<JsValue, JsValue>;

    #[wasm_bindgen(method, js_name = generateKey, catch)]
    async fn js_generate_key(
        this: &Module,
        opts: &JsValue,
    ) -> std::result::Result<JsValue, JsValue>;

    #[wasm_bindgen(method, js_name = signCsr, catch)]
    async fn js_sign_csr(
        this: &Module,
        key: &JsValue,
        subject: &JsValue,
    ) -> std::result::Result<JsValue, JsValue>;

    #[wasm_bindgen(method, js_name = buildPfx, catch)]
    fn js_build_pfx(this: &Module, options: &JsValue) -> std::result::Result<Uint8Array, JsValue>;

    #[wasm_bindgen(method, js_name = certificateToDer, catch)]
    fn js_certificate_to_der(this: &Module, pem: &str) -> std::result::Result<Uint8Array, JsValue>;

    /// The `KeyVault` class itself (for its static `open`).
    #[wasm_bindgen(method, getter, js_name = KeyVault)]
    fn vault_class(this: &Module) -> VaultClass;

    type VaultClass;

    #[wasm_bindgen(method, js_name = open, catch)]
    async fn js_open(this: &VaultClass, options: &JsValue)
    -> std::result::Result<JsValue, JsValue>;

    pub type JsVault;

    #[wasm_bindgen(method, js_name = put, catch)]
    async fn js_put(
        this: &JsVault,
        id: &str,
        key: &JsValue,
        meta: &JsValue,
    ) -> std::result::Result<JsValue, JsValue>;

    #[wasm_bindgen(method, js_name = get, catch)]
    async fn js_get(this: &JsVault, id: &str) -> std::result::Result<JsValue, JsValue>;

    #[wasm_bindgen(method, js_name = list, catch)]
    async fn js_list(this: &JsVault) -> std::result::Result<JsValue, JsValue>;

    #[wasm_bindgen(method, js_name = delete, catch)]
    async fn js_delete(this: &JsVault, id: &str) -> std::result::Result<JsValue, JsValue>;
}

thread_local! {
    /// The imported package (its module namespace), kept for the synchronous calls
    /// (`build_pfx`, `certificate_to_der`).
    static MODULE: RefCell<Option<JsValue>> = const { RefCell::new(None) };
}

/// The package, imported on first use.
async fn module() -> Result<Module> {
    if let Some(m) = MODULE.with_borrow(Clone::clone) {
        return Ok(m.unchecked_into());
    }
    let m = load_keygen().await.map_err(|e| KeygenError {
        code: "load_failed".into(),
        message: KeygenError::from(e).message,
    })?;
    MODULE.with_borrow_mut(|slot| *slot = Some(m.clone()));
    Ok(m.unchecked_into())
}

/// The package for a synchronous call: pages call these only after `init`, which imported it.
fn loaded() -> Result<Module> {
    MODULE
        .with_borrow(Clone::clone)
        .map(JsCast::unchecked_into)
        .ok_or_else(|| KeygenError {
            code: "load_failed".into(),
            message: "the keygen package is not loaded yet".into(),
        })
}

/// A refusal from the keygen package: its stable `code` (KeygenError) and message.
#[derive(Debug, Clone, PartialEq)]
pub struct KeygenError {
    pub code: String,
    pub message: String,
}

impl From<JsValue> for KeygenError {
    fn from(e: JsValue) -> Self {
        let text = |k: &str| {
            Reflect::get(&e, &JsValue::from_str(k))
                .ok()
                .and_then(|v| v.as_string())
        };
        KeygenError {
            code: text("code").unwrap_or_else(|| "internal".into()),
            message: text("message")
                .or_else(|| e.as_string())
                .unwrap_or_else(|| "unknown error".into()),
        }
    }
}

pub type Result<T> = std::result::Result<T, KeygenError>;

fn set(o: &Object, k: &str, v: &JsValue) {
    // Reflect::set only fails on frozen objects or proxies; ours are plain literals.
    let _ = Reflect::set(o, &JsValue::from_str(k), v);
}

/// Loads the keygen wasm (once).
pub async fn init() -> Result<()> {
    module()
        .await?
        .js_init()
        .await
        .map(|_| ())
        .map_err(KeygenError::from)
}

/// A generated key pair (the package's `GeneratedKey` object; `pkcs8` is secret, and a
/// WebCrypto key also holds its `CryptoKey`, which signs the CSR).
#[derive(Clone)]
pub struct Key(JsValue);

impl Key {
    fn pkcs8(&self) -> JsValue {
        Reflect::get(&self.0, &JsValue::from_str("pkcs8")).unwrap_or(JsValue::UNDEFINED)
    }
}

/// RSA-2048 with the automatic backend; `on_phase` sees 'loading', 'generating', ...
pub async fn generate_key(on_phase: impl FnMut(String) + 'static) -> Result<Key> {
    let mut on_phase = on_phase;
    let cb = Closure::<dyn FnMut(JsValue)>::new(move |p: JsValue| {
        on_phase(p.as_string().unwrap_or_default());
    });
    let algorithm = Object::new();
    set(&algorithm, "kind", &"rsa".into());
    set(&algorithm, "bits", &2048.into());
    let opts = Object::new();
    set(&opts, "algorithm", &algorithm);
    set(&opts, "backend", &"auto".into());
    set(&opts, "onPhase", cb.as_ref());
    let key = module()
        .await?
        .js_generate_key(&opts)
        .await
        .map_err(KeygenError::from);
    // The callback must outlive the promise; it is dropped only after it settled.
    drop(cb);
    key.map(Key)
}

pub struct Subject<'a> {
    pub cn: &'a str,
    pub o: &'a str,
    pub c: &'a str,
    pub serial_number: &'a str,
}

/// A PEM CSR signed with the key (by WebCrypto when the key came from it).
pub async fn sign_csr(key: &Key, s: &Subject<'_>) -> Result<String> {
    let subject = Object::new();
    set(&subject, "cn", &s.cn.into());
    if !s.o.is_empty() {
        set(&subject, "o", &s.o.into());
    }
    if !s.c.is_empty() {
        set(&subject, "c", &s.c.into());
    }
    if !s.serial_number.is_empty() {
        set(&subject, "serialNumber", &s.serial_number.into());
    }
    let csr = module().await?.js_sign_csr(&key.0, &subject).await?;
    Reflect::get(&csr, &JsValue::from_str("pem"))
        .ok()
        .and_then(|v| v.as_string())
        .ok_or_else(|| KeygenError {
            code: "internal".into(),
            message: "buildCsr returned no PEM".into(),
        })
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Profile {
    Compatible,
    Modern,
}

impl Profile {
    pub fn code(self) -> &'static str {
        match self {
            Profile::Compatible => "compatible",
            Profile::Modern => "modern",
        }
    }
}

pub struct PfxRequest<'a> {
    pub certificate_pem: &'a str,
    pub chain_pem: &'a [String],
    pub password: &'a str,
    pub friendly_name: &'a str,
    pub profile: Profile,
}

/// The `.pfx` bytes (a JS Uint8Array, handed straight to a Blob).
pub fn build_pfx(key: &Key, r: &PfxRequest) -> Result<Uint8Array> {
    let o = Object::new();
    set(&o, "pkcs8", &key.pkcs8());
    set(&o, "certificate", &r.certificate_pem.into());
    let chain = js_sys::Array::new();
    for c in r.chain_pem {
        chain.push(&JsValue::from_str(c));
    }
    set(&o, "chain", &chain);
    set(&o, "password", &r.password.into());
    set(&o, "friendlyName", &r.friendly_name.into());
    set(&o, "profile", &r.profile.code().into());
    Ok(loaded()?.js_build_pfx(&o)?)
}

/// The `.cer` (DER) bytes.
pub fn certificate_to_der(pem: &str) -> Result<Uint8Array> {
    Ok(loaded()?.js_certificate_to_der(pem)?)
}

/// The company whose stored keys this browser may show: the logged-in applicant's tax ID
/// (none for an operator or before login).
pub fn vault_owner(session: &Session) -> Option<String> {
    session
        .view
        .with_untracked(|s| s.as_ref().and_then(|s| s.tax_id.clone()))
        .filter(|t| !t.is_empty())
}

/// Keys kept in IndexedDB (encrypted under a non-extractable key) from the moment before
/// the CSR is sent until the `.pfx` is saved, so a closed tab does not lose them. A vault is
/// opened for one company: it lists and hands out only that company's keys, and wipes keys
/// older than the package's limit (30 days) whenever it opens.
pub struct Vault(JsVault);

impl Vault {
    pub async fn open(owner: &str) -> Result<Vault> {
        let options = Object::new();
        set(&options, "owner", &owner.into());
        let v = module().await?.vault_class().js_open(&options).await?;
        Ok(Vault(v.unchecked_into()))
    }

    pub async fn put(&self, id: &str, key: &Key, cert_name: &str) -> Result<()> {
        let meta = Object::new();
        set(&meta, "serial", &id.into());
        set(&meta, "certName", &cert_name.into());
        self.0.js_put(id, &key.0, &meta).await?;
        Ok(())
    }

    pub async fn get(&self, id: &str) -> Result<Option<Key>> {
        let v = self.0.js_get(id).await?;
        Ok(if v.is_null() || v.is_undefined() {
            None
        } else {
            Some(Key(v))
        })
    }

    /// The ids (application serials) with a stored key.
    pub async fn ids(&self) -> Result<Vec<String>> {
        let list = self.0.js_list().await?;
        Ok(js_sys::Array::from(&list)
            .iter()
            .filter_map(|e| {
                Reflect::get(&e, &JsValue::from_str("id"))
                    .ok()
                    .and_then(|v| v.as_string())
            })
            .collect())
    }

    pub async fn delete(&self, id: &str) -> Result<()> {
        self.0.js_delete(id).await?;
        Ok(())
    }
}
