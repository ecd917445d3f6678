//! wasm-bindgen exports: the low-level surface that `js/index.js` and `js/worker.js` wrap
//! into the documented API. Bytes cross as `Uint8Array`, errors as `Error` objects with a
//! `code` (and `field`) that `index.js` turns into `KeygenError`.

use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;

use crate::csr::Subject;
use crate::error::KeygenError;
use crate::keygen::{KeyAlgorithm, PrivateKey};
use crate::pkcs12::{PfxRequest, Profile};

fn to_js(e: KeygenError) -> JsValue {
    let err = js_sys::Error::new(&e.to_string());
    err.set_name("KeygenError");
    // Setting a property on a fresh Error object cannot fail.
    let _ = Reflect::set(&err, &"code".into(), &e.code().into());
    if let Some(field) = e.field() {
        let _ = Reflect::set(&err, &"field".into(), &field.into());
    }
    err.into()
}

fn object(entries: &[(&str, JsValue)]) -> Result<Object, JsValue> {
    let o = Object::new();
    for (k, v) in entries {
        Reflect::set(&o, &(*k).into(), v)?;
    }
    Ok(o)
}

fn bytes(b: &[u8]) -> JsValue {
    Uint8Array::from(b).into()
}

fn algorithm(kind: &str, bits: u32) -> Result<KeyAlgorithm, KeygenError> {
    match kind {
        "rsa" => KeyAlgorithm::rsa(bits),
        "ec-p256" => Ok(KeyAlgorithm::EcP256),
        other => Err(KeygenError::UnsupportedAlgorithm(other.to_owned())),
    }
}

/// `{ pkcs8, spki }` for a new key. `kind` is `rsa` (with `bits`) or `ec-p256`.
#[wasm_bindgen(js_name = generateKeyPair)]
pub fn generate_key_pair(kind: &str, bits: u32) -> Result<Object, JsValue> {
    let key = algorithm(kind, bits)
        .and_then(crate::keygen::generate)
        .map_err(to_js)?;
    object(&[("pkcs8", bytes(&key.pkcs8)), ("spki", bytes(&key.spki))])
}

/// One prime (big-endian bytes) for an RSA key of `bits` bits: `js/worker.js` runs this in
/// two workers at once and joins the results with `rsaKeyFromPrimes`.
#[wasm_bindgen(js_name = generateRsaPrime)]
pub fn generate_rsa_prime(bits: u32) -> Result<Uint8Array, JsValue> {
    let p = crate::keygen::generate_rsa_prime(bits).map_err(to_js)?;
    // The Zeroizing buffer is wiped when `p` drops; JavaScript wipes its copy after use.
    Ok(Uint8Array::from(p.as_slice()))
}

/// One bounded slice of that search (at most `max_candidates` primality tests): the prime, or
/// `undefined` when the slice found none. `js/worker.js` loops over slices and reads its
/// messages in between, so a search no longer wanted can be stopped without ending the worker.
#[wasm_bindgen(js_name = searchRsaPrime)]
pub fn search_rsa_prime(bits: u32, max_candidates: u32) -> Result<Option<Uint8Array>, JsValue> {
    let p = crate::keygen::search_rsa_prime(bits, max_candidates as usize).map_err(to_js)?;
    Ok(p.map(|p| Uint8Array::from(p.as_slice())))
}

/// `{ pkcs8, spki }` of the RSA key with primes `p` and `q`; an Error with code
/// `primes_too_close` asks for two new primes.
#[wasm_bindgen(js_name = rsaKeyFromPrimes)]
pub fn rsa_key_from_primes(bits: u32, p: &[u8], q: &[u8]) -> Result<Object, JsValue> {
    let key = crate::keygen::rsa_key_from_primes(bits, p, q).map_err(to_js)?;
    object(&[("pkcs8", bytes(&key.pkcs8)), ("spki", bytes(&key.spki))])
}

/// Checks a PKCS#8 key (e.g. exported from WebCrypto) against the portal's rules and
/// returns `{ kind, bits, spki }`.
#[wasm_bindgen(js_name = inspectKey)]
pub fn inspect_key(pkcs8: &[u8]) -> Result<Object, JsValue> {
    let key = PrivateKey::from_pkcs8(pkcs8).map_err(to_js)?;
    let spki = key.spki().map_err(to_js)?;
    let (kind, bits) = match key.algorithm() {
        KeyAlgorithm::Rsa { bits } => ("rsa", JsValue::from(bits)),
        KeyAlgorithm::EcP256 => ("ec-p256", JsValue::UNDEFINED),
    };
    object(&[
        ("kind", kind.into()),
        ("bits", bits),
        ("spki", bytes(&spki)),
    ])
}

/// `{ pem, der }` of a signed PKCS#10 request.
#[wasm_bindgen(js_name = buildCsr)]
pub fn build_csr(
    pkcs8: &[u8],
    cn: String,
    o: Option<String>,
    ou: Option<String>,
    c: Option<String>,
    serial_number: Option<String>,
) -> Result<Object, JsValue> {
    let subject = Subject {
        cn,
        o,
        ou,
        c,
        serial_number,
    };
    let csr = crate::csr::build_csr(pkcs8, &subject).map_err(to_js)?;
    object(&[("pem", csr.pem.into()), ("der", bytes(&csr.der))])
}

/// The DER `CertificationRequestInfo` for the public key `spki` and the subject, for
/// WebCrypto to sign (`js/index.js` `signCsr`); `csrAssemble` adds the signature.
#[wasm_bindgen(js_name = csrInfo)]
pub fn csr_info(
    spki: &[u8],
    cn: String,
    o: Option<String>,
    ou: Option<String>,
    c: Option<String>,
    serial_number: Option<String>,
) -> Result<Vec<u8>, JsValue> {
    let subject = Subject {
        cn,
        o,
        ou,
        c,
        serial_number,
    };
    crate::csr::request_info(spki, &subject).map_err(to_js)
}

/// `{ pem, der }` of the request made of `info` (from `csrInfo`) and WebCrypto's signature.
#[wasm_bindgen(js_name = csrAssemble)]
pub fn csr_assemble(info: &[u8], signature: &[u8]) -> Result<Object, JsValue> {
    let csr = crate::csr::assemble_signed(info, signature).map_err(to_js)?;
    object(&[("pem", csr.pem.into()), ("der", bytes(&csr.der))])
}

/// The `.pfx` bytes. `certificate` and each `chain` entry are DER or UTF-8 PEM bytes.
#[wasm_bindgen(js_name = buildPfx)]
pub fn build_pfx(
    pkcs8: &[u8],
    certificate: &[u8],
    chain: Array,
    password: &str,
    friendly_name: &str,
    profile: &str,
) -> Result<Vec<u8>, JsValue> {
    let chain: Vec<Vec<u8>> = chain
        .iter()
        .map(|v| {
            v.dyn_into::<Uint8Array>()
                .map(|a| a.to_vec())
                .map_err(|_| to_js(KeygenError::bad_certificate("chain entries must be bytes")))
        })
        .collect::<Result<_, _>>()?;
    let chain_refs: Vec<&[u8]> = chain.iter().map(Vec::as_slice).collect();
    let profile = Profile::parse(profile).map_err(to_js)?;
    crate::pkcs12::build_pfx(&PfxRequest {
        pkcs8,
        certificate,
        chain: &chain_refs,
        password,
        friendly_name,
        profile,
    })
    .map_err(to_js)
}

#[wasm_bindgen(js_name = certificateToDer)]
pub fn certificate_to_der(input: &[u8]) -> Result<Vec<u8>, JsValue> {
    crate::cert::certificate_to_der(input).map_err(to_js)
}

#[wasm_bindgen(js_name = certificateToPem)]
pub fn certificate_to_pem(der: &[u8]) -> Result<String, JsValue> {
    crate::cert::certificate_to_pem(der).map_err(to_js)
}

#[wasm_bindgen(js_name = validatePassword)]
pub fn validate_password(password: &str, confirm: Option<String>) -> Result<(), JsValue> {
    crate::validate::validate_password(password, confirm.as_deref()).map_err(to_js)
}

#[wasm_bindgen(js_name = validateFileName)]
pub fn validate_file_name(name: &str) -> Result<(), JsValue> {
    crate::validate::validate_file_name(name).map_err(to_js)
}
