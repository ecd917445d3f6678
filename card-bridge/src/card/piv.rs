//! PIV (NIST SP 800-73-4) card application: the APDUs card-bridge needs to list the card
//! and sign with the key in slot 9A (PIV Authentication).
//!
//! * SELECT `A0 00 00 03 08`
//! * GET DATA `5F C1 05` (certificate for 9A) and `5F C1 02` (CHUID, for the card serial)
//! * VERIFY key reference `80`, PIN padded with `FF` to 8 bytes
//! * GENERAL AUTHENTICATE, algorithm `07` (RSA-2048) key `9A`, on a PKCS#1 v1.5 block
//!   built on the host (the card does raw RSA)
//!
//! A MOEACA card is not PIV: see README.md for what a real card needs (PKCS#11).

use card_auth::{CertificateInfo, PublicKeyInfo};
use zeroize::Zeroizing;

use super::apdu::{Command, Response, Transport, transceive};
use super::{CardCertificate, CardError, Token, TokenState, tlv};
use crate::pin::Pin;
use crate::pkcs1::{self, HashAlg};

pub const PIV_AID: [u8; 5] = [0xA0, 0x00, 0x00, 0x03, 0x08];
pub const OBJECT_CHUID: [u8; 3] = [0x5F, 0xC1, 0x02];
pub const OBJECT_CERT_9A: [u8; 3] = [0x5F, 0xC1, 0x05];
pub const KEY_9A: u8 = 0x9A;
/// PIV Card Application PIN.
pub const PIN_REF: u8 = 0x80;

/// PIV algorithm identifier for an RSA modulus size (SP 800-78-4 table 6-2, plus the
/// 3072/4096 values later revisions and YubiKeys use). 1024-bit keys are refused.
pub fn rsa_algorithm_id(modulus_bits: usize) -> Option<u8> {
    match modulus_bits {
        2048 => Some(0x07),
        3072 => Some(0x05),
        4096 => Some(0x16),
        _ => None,
    }
}

fn check(r: &Response, what: &str) -> Result<(), CardError> {
    if r.is_ok() {
        Ok(())
    } else {
        Err(CardError::Card(format!(
            "{what} failed with SW {:04X}",
            r.sw
        )))
    }
}

/// Selects the PIV application; `false` if the card has none.
pub fn select(t: &mut dyn Transport) -> Result<bool, CardError> {
    let r = transceive(
        t,
        &Command::new(0x00, 0xA4, 0x04, 0x00, PIV_AID.to_vec(), true),
    )?;
    match r.sw {
        0x9000 => Ok(true),
        0x6A82 | 0x6A81 | 0x6D00 | 0x6E00 => Ok(false),
        sw => Err(CardError::Card(format!(
            "SELECT PIV failed with SW {sw:04X}"
        ))),
    }
}

/// Reads a data object's content (inside tag `53`); `None` if the card does not have it.
pub fn get_data(t: &mut dyn Transport, object: &[u8; 3]) -> Result<Option<Vec<u8>>, CardError> {
    let r = transceive(
        t,
        &Command::new(0x00, 0xCB, 0x3F, 0xFF, tlv::encode(&[0x5C], object), true),
    )?;
    if r.sw == 0x6A82 {
        return Ok(None);
    }
    check(&r, "GET DATA")?;
    let content = tlv::find(&r.data, &[0x53])?
        .ok_or_else(|| CardError::Card("GET DATA answer without tag 53".into()))?;
    Ok(Some(content.to_vec()))
}

/// The certificate in slot 9A, DER; `None` if the slot is empty.
pub fn read_certificate(t: &mut dyn Transport) -> Result<Option<Vec<u8>>, CardError> {
    let Some(object) = get_data(t, &OBJECT_CERT_9A)? else {
        return Ok(None);
    };
    let cert = tlv::find(&object, &[0x70])?
        .ok_or_else(|| CardError::Card("certificate object without tag 70".into()))?;
    let info = tlv::find(&object, &[0x71])?.unwrap_or(&[0x00]);
    if info.first().is_some_and(|b| b & 0x01 != 0) {
        return Err(CardError::Card(
            "the certificate on the card is gzip-compressed; not supported".into(),
        ));
    }
    Ok(Some(cert.to_vec()))
}

/// The card serial: the CHUID GUID (tag 34) in upper-case hex.
pub fn read_serial(t: &mut dyn Transport) -> Result<Option<String>, CardError> {
    let Some(chuid) = get_data(t, &OBJECT_CHUID)? else {
        return Ok(None);
    };
    Ok(tlv::find(&chuid, &[0x34])?.map(|guid| guid.iter().map(|b| format!("{b:02X}")).collect()))
}

/// VERIFY the PIV PIN. PIV PINs are 6–8 characters, padded with `FF` to 8 bytes.
pub fn verify_pin(t: &mut dyn Transport, pin: &Pin) -> Result<(), CardError> {
    let bytes = pin.as_bytes();
    if !(6..=8).contains(&bytes.len()) || !bytes.iter().all(|b| b.is_ascii_graphic()) {
        return Err(CardError::PinFormat);
    }
    let mut padded = Zeroizing::new(vec![0xFF; 8]);
    padded[..bytes.len()].copy_from_slice(bytes);
    let r = transceive(
        t,
        &Command::new(0x00, 0x20, 0x00, PIN_REF, padded.to_vec(), false),
    )?;
    match r.sw {
        0x9000 => Ok(()),
        0x63C0 | 0x6983 => Err(CardError::PinBlocked),
        sw if sw & 0xFFF0 == 0x63C0 => Err(CardError::WrongPin {
            tries_left: Some((sw & 0x0F) as u8),
        }),
        0x6300 => Err(CardError::WrongPin { tries_left: None }),
        0x6A80 | 0x6700 => Err(CardError::PinFormat),
        sw => Err(CardError::Card(format!("VERIFY failed with SW {sw:04X}"))),
    }
}

/// Drops the PIN verification (VERIFY with P1 = FF), so the card is locked again for the
/// next caller. Best effort: an old card may not support it.
pub fn logout(t: &mut dyn Transport) {
    let _ = transceive(
        t,
        &Command::new(0x00, 0x20, 0xFF, PIN_REF, Vec::new(), false),
    );
}

/// GENERAL AUTHENTICATE: raw RSA on `block` with `key` (`7C { 82 00, 81 block }`).
pub fn general_authenticate(
    t: &mut dyn Transport,
    algorithm: u8,
    key: u8,
    block: &[u8],
) -> Result<Vec<u8>, CardError> {
    let template = [tlv::encode(&[0x82], &[]), tlv::encode(&[0x81], block)].concat();
    let r = transceive(
        t,
        &Command::new(
            0x00,
            0x87,
            algorithm,
            key,
            tlv::encode(&[0x7C], &template),
            true,
        ),
    )?;
    match r.sw {
        0x9000 => {}
        0x6982 => return Err(CardError::NotLoggedIn),
        sw => {
            return Err(CardError::Card(format!(
                "GENERAL AUTHENTICATE failed with SW {sw:04X}"
            )));
        }
    }
    let outer = tlv::find(&r.data, &[0x7C])?
        .ok_or_else(|| CardError::Card("GENERAL AUTHENTICATE answer without tag 7C".into()))?;
    let signature = tlv::find(outer, &[0x82])?
        .ok_or_else(|| CardError::Card("GENERAL AUTHENTICATE answer without tag 82".into()))?;
    if signature.len() != block.len() {
        return Err(CardError::Card(format!(
            "the card returned {} signature bytes for a {}-byte key",
            signature.len(),
            block.len()
        )));
    }
    Ok(signature.to_vec())
}

/// What a listing shows for a PIV card (the application is selected first).
pub fn read_token(t: &mut dyn Transport, with_certificates: bool) -> Result<TokenState, CardError> {
    if !select(t)? {
        return Ok(TokenState::Unrecognized);
    }
    let serial = read_serial(t)?.unwrap_or_else(|| "UNKNOWN".into());
    let certificates = if with_certificates {
        read_certificate(t)?
            .map(|der| CardCertificate {
                id: format!("{KEY_9A:02X}"),
                label: "Certificate for PIV Authentication".into(),
                der,
            })
            .into_iter()
            .collect()
    } else {
        Vec::new()
    };
    Ok(TokenState::Present(Token {
        serial,
        label: "PIV".into(),
        manufacturer: "PIV (NIST SP 800-73)".into(),
        model: "PIV".into(),
        certificates,
    }))
}

/// Signature from slot 9A and the certificate it belongs to: SELECT, read the certificate
/// (its key size picks the algorithm and block length), VERIFY, GENERAL AUTHENTICATE,
/// then drop the PIN verification whatever happened.
pub fn sign(
    t: &mut dyn Transport,
    pin: &Pin,
    hash: HashAlg,
    digest: &[u8],
) -> Result<(Vec<u8>, Vec<u8>, String), CardError> {
    if !select(t)? {
        return Err(CardError::UnsupportedCard);
    }
    let certificate = read_certificate(t)?.ok_or(CardError::NoCertificate)?;
    let serial = read_serial(t)?.unwrap_or_else(|| "UNKNOWN".into());
    let info = CertificateInfo::from_der(&certificate)
        .map_err(|e| CardError::Card(format!("the certificate on the card: {e}")))?;
    let (algorithm, modulus_len) = match info.public_key {
        PublicKeyInfo::Rsa { modulus_bits } => (
            rsa_algorithm_id(modulus_bits)
                .ok_or_else(|| CardError::UnsupportedKey(format!("RSA-{modulus_bits}")))?,
            modulus_bits.div_ceil(8),
        ),
        other => return Err(CardError::UnsupportedKey(format!("{other:?}"))),
    };
    let block = pkcs1::pkcs1_v15_block(hash, digest, modulus_len)
        .map_err(|e| CardError::Card(e.to_string()))?;

    verify_pin(t, pin)?;
    let result = general_authenticate(t, algorithm, KEY_9A, &block);
    logout(t);
    Ok((result?, certificate, serial))
}

#[cfg(test)]
mod tests {
    use std::sync::LazyLock;

    use card_auth::testing::{CardSpec, TestCard, TestPki};

    use super::super::fake_piv::FakePiv;
    use super::*;

    struct Fixture {
        pki: TestPki,
        card: TestCard,
        key_pem: String,
    }

    static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
        let now = time::OffsetDateTime::now_utc();
        let pki = TestPki::new("PIV", now).unwrap();
        let card = pki.issue_card(&CardSpec::new("04595257", now)).unwrap();
        let key_pem = card.key_pkcs8_pem().unwrap();
        Fixture { pki, card, key_pem }
    });

    fn fake() -> FakePiv {
        use rsa::pkcs8::DecodePrivateKey;
        let key = rsa::PrivateKey::from_pkcs8_pem(&FIXTURE.key_pem).unwrap();
        FakePiv::new(FIXTURE.card.cert_der.clone(), key, "123456")
    }

    /// The signature must pass the server's own verifier over `tbs`.
    fn assert_login_verifies(sig: &[u8], cert: &[u8], tbs: &[u8]) {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD.encode(sig);
        let intermediates = vec![FIXTURE.pki.intermediate.der.clone()];
        let id = card_auth::verify_login(
            &card_auth::LoginAttempt {
                tbs,
                signature_b64: &b64,
                certificate_der: cert,
                intermediates_der: &intermediates,
            },
            &FIXTURE.pki.trust_store(),
            time::OffsetDateTime::now_utc(),
        )
        .unwrap();
        assert_eq!(id.tax_id, "04595257");
    }

    #[test]
    fn lists_the_card_with_serial_and_certificate() {
        let mut card = fake();
        let TokenState::Present(token) = read_token(&mut card, true).unwrap() else {
            panic!("card not recognised");
        };
        assert_eq!(token.serial, "A5".repeat(16));
        assert_eq!(token.certificates.len(), 1);
        assert_eq!(token.certificates[0].der, FIXTURE.card.cert_der);
        assert_eq!(token.certificates[0].id, "9A");
        // The certificate (> 256 bytes) came back in several GET RESPONSE rounds.
        assert!(card.log.iter().any(|a| a[1] == 0xC0));
    }

    #[test]
    fn signs_with_padding_chaining_and_logout() {
        let mut card = fake();
        let digest = HashAlg::Sha256.digest(b"challenge");
        let (sig, cert, serial) =
            sign(&mut card, &Pin::new("123456"), HashAlg::Sha256, &digest).unwrap();
        assert_eq!(cert, FIXTURE.card.cert_der);
        assert_eq!(serial, "A5".repeat(16));
        assert_login_verifies(&sig, &cert, b"challenge");

        let verify = card
            .log
            .iter()
            .find(|a| a[1] == 0x20 && a[2] == 0x00)
            .unwrap();
        assert_eq!(
            verify.as_slice(),
            &[
                0x00, 0x20, 0x00, 0x80, 0x08, b'1', b'2', b'3', b'4', b'5', b'6', 0xFF, 0xFF
            ]
        );
        let ga: Vec<_> = card.log.iter().filter(|a| a[1] == 0x87).collect();
        assert_eq!(ga.len(), 2, "266 bytes of template need two chained APDUs");
        assert_eq!(ga[0][0], 0x10);
        assert_eq!(ga[1][0], 0x00);
        assert_eq!(
            card.log.last().unwrap().as_slice(),
            &[0x00, 0x20, 0xFF, 0x80]
        );
    }

    #[test]
    fn wrong_pin_counts_down_then_blocks() {
        let mut card = fake();
        let digest = HashAlg::Sha256.digest(b"x");
        let wrong = Pin::new("654321");
        assert_eq!(
            sign(&mut card, &wrong, HashAlg::Sha256, &digest).unwrap_err(),
            CardError::WrongPin {
                tries_left: Some(2)
            }
        );
        assert_eq!(
            sign(&mut card, &wrong, HashAlg::Sha256, &digest).unwrap_err(),
            CardError::WrongPin {
                tries_left: Some(1)
            }
        );
        assert_eq!(
            sign(&mut card, &wrong, HashAlg::Sha256, &digest).unwrap_err(),
            CardError::PinBlocked
        );
        assert_eq!(
            sign(&mut card, &Pin::new("123456"), HashAlg::Sha256, &digest).unwrap_err(),
            CardError::PinBlocked
        );
    }

    #[test]
    fn pin_format_is_checked_before_the_card_sees_it() {
        let mut card = fake();
        let digest = HashAlg::Sha256.digest(b"x");
        for bad in ["12345", "123456789", "12 456"] {
            assert_eq!(
                sign(&mut card, &Pin::new(bad), HashAlg::Sha256, &digest).unwrap_err(),
                CardError::PinFormat,
                "{bad:?}"
            );
        }
        assert_eq!(card.retries, 3);
        assert!(!card.log.iter().any(|a| a[1] == 0x20 && a[2] == 0x00));
    }

    #[test]
    fn non_piv_card_and_empty_slot_and_removal() {
        let mut card = fake();
        card.log.clear();
        assert!(select(&mut card).unwrap());

        struct NotPiv;
        impl Transport for NotPiv {
            fn transmit(&mut self, _: &[u8]) -> Result<Vec<u8>, CardError> {
                Ok(vec![0x6A, 0x82])
            }
        }
        assert_eq!(
            read_token(&mut NotPiv, true).unwrap(),
            TokenState::Unrecognized
        );
        let digest = HashAlg::Sha256.digest(b"x");
        assert_eq!(
            sign(&mut NotPiv, &Pin::new("123456"), HashAlg::Sha256, &digest).unwrap_err(),
            CardError::UnsupportedCard
        );

        let mut empty = fake();
        empty.cert_der = None;
        assert_eq!(
            sign(&mut empty, &Pin::new("123456"), HashAlg::Sha256, &digest).unwrap_err(),
            CardError::NoCertificate
        );

        let mut gone = fake();
        gone.present = false;
        assert_eq!(
            read_token(&mut gone, false).unwrap_err(),
            CardError::CardRemoved
        );
    }

    #[test]
    fn algorithm_ids() {
        assert_eq!(rsa_algorithm_id(2048), Some(0x07));
        assert_eq!(rsa_algorithm_id(1024), None);
    }
}
