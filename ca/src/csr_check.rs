//! PKCS#10 checks. The CSR proves possession of the key and carries the key; nothing else in
//! it (subject, requested extensions such as cA TRUE or SANs) is read.

use num_bigint::BigUint;
use sha2::{Digest, Sha256};
use x509_parser::prelude::{FromDer, X509CertificationRequest};

use crate::spki::{self, SpkiError};
use crate::{CheckedCsr, CsrError, KeyInfo, Profile, weak_keys};

const RSA_SIZES: [u32; 3] = [2048, 3072, 4096];
const RSA_EXPONENT: [u8; 3] = [0x01, 0x00, 0x01];

pub(crate) fn check_csr(profile: &Profile, csr_der: &[u8]) -> Result<CheckedCsr, CsrError> {
    let (rest, csr) =
        X509CertificationRequest::from_der(csr_der).map_err(|e| CsrError::Parse(e.to_string()))?;
    if !rest.is_empty() {
        return Err(CsrError::Parse("trailing data after the CSR".into()));
    }
    let info = &csr.certification_request_info;
    if info.version.0 != 0 {
        return Err(CsrError::Parse(format!(
            "unknown CSR version {}",
            info.version.0
        )));
    }

    // Cheap refusals first, so a SHA-1 or RSA-1024 CSR gets the precise reason.
    let sig_alg =
        spki::classify_signature(&csr.signature_algorithm).map_err(CsrError::Algorithm)?;
    let key = spki::from_spki(&info.subject_pki).map_err(|e| match e {
        SpkiError::Unsupported(name) => CsrError::KeyType(name),
        SpkiError::Malformed(why) => CsrError::Parse(why),
    })?;
    let key_info = match key.rsa_exponent() {
        Some(e) => {
            let bits = key.rsa_bits().unwrap_or(0);
            if !RSA_SIZES.contains(&bits) {
                return Err(CsrError::KeySize(bits));
            }
            if e != RSA_EXPONENT {
                return Err(CsrError::Exponent);
            }
            KeyInfo::Rsa { bits }
        }
        None => {
            if !profile.allow_ec_p256 {
                return Err(CsrError::KeyType("ECDSA P-256".into()));
            }
            KeyInfo::EcP256
        }
    };

    if csr.signature_value.unused_bits != 0
        || !key.verify(sig_alg, info.raw, &csr.signature_value.data)
    {
        return Err(CsrError::BadSignature);
    }

    if let Some(n) = key.rsa_modulus() {
        weak_keys::check_modulus(&BigUint::from_bytes_be(n)).map_err(CsrError::WeakKey)?;
    }

    Ok(CheckedCsr {
        spki_der: key.to_spki_der(),
        csr_sha256: Sha256::digest(csr_der).into(),
        key: key_info,
    })
}
