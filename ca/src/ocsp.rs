//! OCSP (RFC 6960) for the certificates this CA issues: the delegated responder certificate
//! (id-kp-OCSPSigning, id-pkix-ocsp-nocheck) the CA signs with rcgen, reading requests, and
//! signing responses with the responder's key through [`CaKey`] (a file key or a token key).
//!
//! The types come from `x509-ocsp`, which is built on der 0.7 / x509-cert 0.2 while the
//! rest of this crate uses der 0.8: nothing of those versions leaves this module, callers
//! see DER bytes, [`Serial`]s and the types below.

use der07::asn1::{BitString, GeneralizedTime, OctetString};
use der07::{DateTime, Decode as _, Encode as _};
use rcgen::{
    CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyIdMethod, KeyUsagePurpose,
};
use sha1::Sha1;
use sha2::{Digest as _, Sha256};
use spki07::AlgorithmIdentifierOwned;
use time::OffsetDateTime;
use x509_cert02::Certificate;
use x509_cert02::ext::Extension;
use x509_cert02::ext::pkix::CrlReason;
use x509_cert02::serial_number::SerialNumber;
use x509_ocsp::{
    BasicOcspResponse, CertId, CertStatus, OcspGeneralizedTime, OcspRequest, OcspResponse,
    OcspResponseStatus, ResponderId, ResponseBytes, ResponseData, RevokedInfo, SingleResponse,
    Version,
};
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::cert::{self, utc};
use crate::key::CaKey;
use crate::{Ca, CaError, RevocationReason, Serial, name};

const SHA1: der07::oid::ObjectIdentifier = der07::oid::db::rfc5912::ID_SHA_1;
const SHA256: der07::oid::ObjectIdentifier = der07::oid::db::rfc5912::ID_SHA_256;
const NONCE: der07::oid::ObjectIdentifier = der07::oid::db::rfc6960::ID_PKIX_OCSP_NONCE;
const BASIC: der07::oid::ObjectIdentifier = der07::oid::db::rfc6960::ID_PKIX_OCSP_BASIC;
/// id-pkix-ocsp-nocheck (RFC 6960 4.2.2.2.1): clients need not check the responder
/// certificate's own revocation, which is why it is short-lived.
const NOCHECK_ARCS: [u64; 10] = [1, 3, 6, 1, 5, 5, 7, 48, 1, 5];

/// What a response says about one certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OcspStatus {
    Good,
    /// Revoked or on hold (`CertificateHold`), since `at`.
    Revoked {
        at: OffsetDateTime,
        reason: RevocationReason,
    },
    /// Not a certificate this CA issued (or a hash algorithm it does not answer for).
    Unknown,
}

/// A request that gets no signed answer: the unsigned OCSPResponse error statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OcspRefusal {
    /// Not a DER OCSPRequest, or one without any certificate.
    Malformed,
    /// Too many questions, or the signer is busy: ask again later.
    TryLater,
    /// A failure on our side.
    Internal,
}

impl OcspRefusal {
    /// The DER OCSPResponse carrying only this status (RFC 6960 4.2.1).
    pub fn der(self) -> &'static [u8] {
        match self {
            OcspRefusal::Malformed => &[0x30, 0x03, 0x0a, 0x01, 0x01],
            OcspRefusal::Internal => &[0x30, 0x03, 0x0a, 0x01, 0x02],
            OcspRefusal::TryLater => &[0x30, 0x03, 0x0a, 0x01, 0x03],
        }
    }
}

/// One certificate a request asks about, with its CertID kept as sent so the answer
/// repeats it.
#[derive(Debug, Clone)]
pub struct OcspQuestion {
    id: CertId,
    /// The serial, when the CertID names this CA with a hash we answer for (SHA-1 or
    /// SHA-256) and the number fits a serial of ours.
    pub serial: Option<Serial>,
    /// Whether the CertID uses SHA-1, the hash of the pre-produced answers (RFC 5019 2.1.1).
    pub sha1: bool,
}

/// A parsed OCSP request.
#[derive(Debug, Clone)]
pub struct OcspQuery {
    pub questions: Vec<OcspQuestion>,
    nonce: Option<Extension>,
}

impl OcspQuery {
    /// Whether the client sent a nonce (pre-produced answers carry none; RFC 5019 allows it).
    pub fn has_nonce(&self) -> bool {
        self.nonce.is_some()
    }
}

/// Hashes of the CA's name and key, for both CertID hash algorithms.
#[derive(Debug, Clone)]
struct IssuerHashes {
    name_sha1: Vec<u8>,
    key_sha1: Vec<u8>,
    name_sha256: Vec<u8>,
    key_sha256: Vec<u8>,
}

/// The delegated responder: its certificate (issued by the CA) and its key.
pub struct OcspResponder {
    key: CaKey,
    cert: Certificate,
    cert_der: Vec<u8>,
    not_after: OffsetDateTime,
    /// ResponderID byKey: SHA-1 of the responder's public key bits.
    key_hash: OctetString,
    signature_algorithm: AlgorithmIdentifierOwned,
    issuer: IssuerHashes,
}

impl std::fmt::Debug for OcspResponder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OcspResponder")
            .field("not_after", &self.not_after)
            .field("key", &"<redacted>")
            .finish_non_exhaustive()
    }
}

fn build_err(what: &'static str) -> impl Fn(der07::Error) -> CaError {
    move |e| CaError::Build(format!("OCSP {what}: {e}"))
}

fn time(t: OffsetDateTime) -> Result<OcspGeneralizedTime, CaError> {
    let secs = u64::try_from(utc(t).unix_timestamp())
        .map_err(|_| CaError::Build(format!("OCSP time before 1970: {t}")))?;
    let dt = DateTime::from_unix_duration(std::time::Duration::from_secs(secs))
        .map_err(build_err("time"))?;
    Ok(OcspGeneralizedTime(GeneralizedTime::from_date_time(dt)))
}

fn crl_reason(r: RevocationReason) -> CrlReason {
    match r {
        RevocationReason::Unspecified => CrlReason::Unspecified,
        RevocationReason::KeyCompromise => CrlReason::KeyCompromise,
        RevocationReason::AffiliationChanged => CrlReason::AffiliationChanged,
        RevocationReason::Superseded => CrlReason::Superseded,
        RevocationReason::CessationOfOperation => CrlReason::CessationOfOperation,
        RevocationReason::CertificateHold => CrlReason::CertificateHold,
        RevocationReason::PrivilegeWithdrawn => CrlReason::PrivilegeWithdrawn,
    }
}

fn cert_status(s: OcspStatus) -> Result<CertStatus, CaError> {
    Ok(match s {
        OcspStatus::Good => CertStatus::good(),
        OcspStatus::Unknown => CertStatus::unknown(),
        OcspStatus::Revoked { at, reason } => CertStatus::Revoked(RevokedInfo {
            revocation_time: time(at)?,
            // As on the CRL: an unspecified reason is left out (RFC 5280 5.3.1).
            revocation_reason: (reason != RevocationReason::Unspecified)
                .then(|| crl_reason(reason)),
        }),
    })
}

fn hash_algorithm(oid: der07::oid::ObjectIdentifier) -> AlgorithmIdentifierOwned {
    // NULL parameters, as OpenSSL writes them in the CertIDs it sends.
    AlgorithmIdentifierOwned {
        oid,
        parameters: Some(der07::asn1::Any::null()),
    }
}

impl Ca {
    /// The delegated OCSP responder certificate for `key`: the CA's C and O with CN
    /// "<CA CN> OCSP Responder", digitalSignature, id-kp-OCSPSigning and id-pkix-ocsp-nocheck,
    /// valid from `not_before` to `not_after` (short: it is never revoked, it expires).
    pub fn issue_ocsp_responder(
        &self,
        key: &CaKey,
        serial: Serial,
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Result<Vec<u8>, CaError> {
        if not_after > self.not_after || not_before >= not_after {
            return Err(CaError::Build(format!(
                "OCSP responder validity {not_before} .. {not_after} is empty or outlives the CA"
            )));
        }
        let (_, ca_cert) =
            X509Certificate::from_der(&self.cert_der).map_err(|e| CaError::Parse(e.to_string()))?;
        let mut subject = name::ca_subject_of(&ca_cert.tbs_certificate.subject)?;
        subject.common_name = format!("{} OCSP Responder", subject.common_name);
        let public = cert::subject_key(true, &key.public_key_spki_der())?;
        let mut params = CertificateParams::default();
        params.serial_number = Some(rcgen::SerialNumber::from_slice(&serial.0));
        params.not_before = utc(not_before);
        params.not_after = utc(not_after);
        params.distinguished_name = name::ca_name(&subject)?;
        debug_assert!(params.distinguished_name.get(&DnType::CommonName).is_some());
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_identifier_method = KeyIdMethod::PreSpecified(public.key_id());
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::OcspSigning];
        params.use_authority_key_identifier_extension = true;
        params.custom_extensions = vec![rcgen::CustomExtension::from_oid_content(
            &NOCHECK_ARCS,
            vec![0x05, 0x00],
        )];
        cert::sign(self, &params, &public)
    }

    fn issuer_hashes(&self) -> IssuerHashes {
        let key = self.public_key.key_bits();
        IssuerHashes {
            name_sha1: Sha1::digest(&self.subject_der).to_vec(),
            key_sha1: Sha1::digest(key).to_vec(),
            name_sha256: Sha256::digest(&self.subject_der).to_vec(),
            key_sha256: Sha256::digest(key).to_vec(),
        }
    }
}

impl OcspResponder {
    /// The responder for `ca` from its key and certificate; refuses a certificate the CA did
    /// not sign or that is for another key.
    pub fn new(ca: &Ca, key: CaKey, cert_der: Vec<u8>) -> Result<OcspResponder, CaError> {
        let info = ca.inspect_issued(&cert_der)?;
        if info.spki_der != key.public_key_spki_der() {
            return Err(CaError::KeyMismatch);
        }
        let cert = Certificate::from_der(&cert_der).map_err(|e| CaError::Parse(e.to_string()))?;
        let signature_algorithm = AlgorithmIdentifierOwned::from_der(
            &key.signature_algorithm().algorithm_identifier_der(),
        )
        .map_err(build_err("signature algorithm"))?;
        Ok(OcspResponder {
            key_hash: OctetString::new(key.key_id()).map_err(build_err("key hash"))?,
            key,
            cert,
            cert_der,
            not_after: info.not_after,
            signature_algorithm,
            issuer: ca.issuer_hashes(),
        })
    }

    pub fn certificate_der(&self) -> &[u8] {
        &self.cert_der
    }

    pub fn not_after(&self) -> OffsetDateTime {
        self.not_after
    }

    /// Reads an OCSPRequest (DER). A signature on the request is not required and not
    /// checked: answers are public.
    pub fn read_request(&self, der: &[u8]) -> Result<OcspQuery, OcspRefusal> {
        let req = OcspRequest::from_der(der).map_err(|_| OcspRefusal::Malformed)?;
        let tbs = req.tbs_request;
        if tbs.request_list.is_empty() {
            return Err(OcspRefusal::Malformed);
        }
        let nonce = tbs
            .request_extensions
            .unwrap_or_default()
            .into_iter()
            .find(|e| e.extn_id == NONCE);
        let questions = tbs
            .request_list
            .into_iter()
            .map(|r| self.question(r.req_cert))
            .collect();
        Ok(OcspQuery { questions, nonce })
    }

    fn question(&self, id: CertId) -> OcspQuestion {
        let h = &self.issuer;
        let (name, key) = match id.hash_algorithm.oid {
            SHA1 => (&h.name_sha1, &h.key_sha1),
            SHA256 => (&h.name_sha256, &h.key_sha256),
            _ => {
                return OcspQuestion {
                    id,
                    serial: None,
                    sha1: false,
                };
            }
        };
        let ours = id.issuer_name_hash.as_bytes() == name.as_slice()
            && id.issuer_key_hash.as_bytes() == key.as_slice();
        OcspQuestion {
            serial: ours
                .then(|| Serial::from_magnitude(id.serial_number.as_bytes()))
                .flatten(),
            sha1: id.hash_algorithm.oid == SHA1,
            id,
        }
    }

    fn cert_id(&self, serial: Serial) -> Result<CertId, CaError> {
        Ok(CertId {
            hash_algorithm: hash_algorithm(SHA1),
            issuer_name_hash: OctetString::new(self.issuer.name_sha1.clone())
                .map_err(build_err("CertID"))?,
            issuer_key_hash: OctetString::new(self.issuer.key_sha1.clone())
                .map_err(build_err("CertID"))?,
            serial_number: SerialNumber::new(&serial.0).map_err(build_err("CertID"))?,
        })
    }

    /// A pre-produced answer (RFC 5019) for one of our serials: SHA-1 CertID, no nonce,
    /// producedAt = thisUpdate.
    pub fn sign_for_serial(
        &self,
        serial: Serial,
        status: OcspStatus,
        this_update: OffsetDateTime,
        next_update: OffsetDateTime,
    ) -> Result<Vec<u8>, CaError> {
        let id = self.cert_id(serial)?;
        self.sign(vec![(id, status)], None, this_update, next_update)
    }

    /// An answer signed now for the questions of `query`, repeating their CertIDs and the
    /// client's nonce.
    pub fn sign_answers(
        &self,
        query: &OcspQuery,
        statuses: &[OcspStatus],
        this_update: OffsetDateTime,
        next_update: OffsetDateTime,
    ) -> Result<Vec<u8>, CaError> {
        if statuses.len() != query.questions.len() {
            return Err(CaError::Build("one OCSP status per question".into()));
        }
        let answers = query
            .questions
            .iter()
            .zip(statuses)
            .map(|(q, s)| (q.id.clone(), *s))
            .collect();
        self.sign(answers, query.nonce.clone(), this_update, next_update)
    }

    fn sign(
        &self,
        answers: Vec<(CertId, OcspStatus)>,
        nonce: Option<Extension>,
        this_update: OffsetDateTime,
        next_update: OffsetDateTime,
    ) -> Result<Vec<u8>, CaError> {
        if next_update <= this_update {
            return Err(CaError::Build(
                "OCSP nextUpdate must follow thisUpdate".into(),
            ));
        }
        let produced_at = time(this_update)?;
        let next = time(next_update)?;
        let responses = answers
            .into_iter()
            .map(|(cert_id, status)| {
                Ok(SingleResponse {
                    cert_id,
                    cert_status: cert_status(status)?,
                    this_update: produced_at,
                    next_update: Some(next),
                    single_extensions: None,
                })
            })
            .collect::<Result<Vec<_>, CaError>>()?;
        let tbs = ResponseData {
            version: Version::V1,
            responder_id: ResponderId::ByKey(self.key_hash.clone()),
            produced_at,
            responses,
            response_extensions: nonce.map(|n| vec![n]),
        };
        let tbs_der = tbs.to_der().map_err(build_err("ResponseData"))?;
        let signature = self.key.sign(&tbs_der)?;
        let basic = BasicOcspResponse {
            tbs_response_data: tbs,
            signature_algorithm: self.signature_algorithm.clone(),
            signature: BitString::from_bytes(&signature).map_err(build_err("signature"))?,
            certs: Some(vec![self.cert.clone()]),
        };
        OcspResponse {
            response_status: OcspResponseStatus::Successful,
            response_bytes: Some(ResponseBytes {
                response_type: BASIC,
                response: OctetString::new(basic.to_der().map_err(build_err("BasicOCSPResponse"))?)
                    .map_err(build_err("ResponseBytes"))?,
            }),
        }
        .to_der()
        .map_err(build_err("OCSPResponse"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CaSubject, KeyAlgorithm};
    use time::Duration;
    use x509_ocsp::{Request, TbsRequest};

    fn ca(now: OffsetDateTime) -> Ca {
        let key = CaKey::generate(KeyAlgorithm::EcP256).unwrap();
        let subject = CaSubject {
            common_name: "OCSP Test CA".into(),
            organization: "Test".into(),
            country: "TW".into(),
        };
        Ca::self_signed(
            key,
            &subject,
            Serial::random(),
            now,
            now + Duration::days(365),
        )
        .unwrap()
    }

    fn responder(ca: &Ca, now: OffsetDateTime) -> OcspResponder {
        let key = CaKey::generate(KeyAlgorithm::EcP256).unwrap();
        let der = ca
            .issue_ocsp_responder(&key, Serial::random(), now, now + Duration::days(30))
            .unwrap();
        OcspResponder::new(ca, key, der).unwrap()
    }

    fn request(ids: Vec<CertId>) -> Vec<u8> {
        OcspRequest {
            tbs_request: TbsRequest {
                version: Version::V1,
                requestor_name: None,
                request_list: ids
                    .into_iter()
                    .map(|req_cert| Request {
                        req_cert,
                        single_request_extensions: None,
                    })
                    .collect(),
                request_extensions: None,
            },
            optional_signature: None,
        }
        .to_der()
        .unwrap()
    }

    #[test]
    fn the_responder_certificate_must_be_the_cas_and_for_its_key() {
        let now = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
        let ca = ca(now);
        let key = CaKey::generate(KeyAlgorithm::EcP256).unwrap();
        let other = CaKey::generate(KeyAlgorithm::EcP256).unwrap();
        let der = ca
            .issue_ocsp_responder(&key, Serial::random(), now, now + Duration::days(30))
            .unwrap();
        assert!(matches!(
            OcspResponder::new(&ca, other, der.clone()),
            Err(CaError::KeyMismatch)
        ));
        assert!(matches!(
            OcspResponder::new(&self::ca(now), key, der),
            Err(CaError::NotOurs)
        ));
        // Never beyond the CA.
        let key = CaKey::generate(KeyAlgorithm::EcP256).unwrap();
        assert!(
            ca.issue_ocsp_responder(&key, Serial::random(), now, now + Duration::days(400))
                .is_err()
        );
    }

    #[test]
    fn requests_name_our_serials_only_under_our_issuer_hashes() {
        let now = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
        let ca = ca(now);
        let r = responder(&ca, now);
        let serial = Serial::random();
        let ours = r.cert_id(serial).unwrap();
        let mut foreign = ours.clone();
        foreign.issuer_key_hash = OctetString::new(vec![0u8; 20]).unwrap();
        let mut sha256 = ours.clone();
        sha256.hash_algorithm = hash_algorithm(SHA256);
        sha256.issuer_name_hash = OctetString::new(r.issuer.name_sha256.clone()).unwrap();
        sha256.issuer_key_hash = OctetString::new(r.issuer.key_sha256.clone()).unwrap();
        let q = r
            .read_request(&request(vec![ours, foreign, sha256]))
            .unwrap();
        let got: Vec<_> = q.questions.iter().map(|q| (q.serial, q.sha1)).collect();
        assert_eq!(
            got,
            [(Some(serial), true), (None, true), (Some(serial), false)]
        );
        assert!(!q.has_nonce());
        assert_eq!(
            r.read_request(b"\x30\x00").unwrap_err(),
            OcspRefusal::Malformed
        );
        assert_eq!(
            r.read_request(&request(vec![])).unwrap_err(),
            OcspRefusal::Malformed
        );
    }

    #[test]
    fn a_pre_produced_answer_names_the_responder_by_key_and_carries_its_certificate() {
        let now = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
        let ca = ca(now);
        let r = responder(&ca, now);
        let serial = Serial::random();
        let revoked = OcspStatus::Revoked {
            at: now - Duration::hours(1),
            reason: RevocationReason::KeyCompromise,
        };
        let der = r
            .sign_for_serial(serial, revoked, now, now + Duration::hours(24))
            .unwrap();
        let resp = OcspResponse::from_der(&der).unwrap();
        assert_eq!(resp.response_status, OcspResponseStatus::Successful);
        let bytes = resp.response_bytes.unwrap();
        assert_eq!(bytes.response_type, BASIC);
        let basic = BasicOcspResponse::from_der(bytes.response.as_bytes()).unwrap();
        assert_eq!(
            basic.certs.unwrap()[0].to_der().unwrap(),
            r.certificate_der()
        );
        let data = basic.tbs_response_data;
        assert_eq!(data.responder_id, ResponderId::ByKey(r.key_hash.clone()));
        assert!(data.response_extensions.is_none(), "no nonce");
        let single = &data.responses[0];
        assert_eq!(single.cert_id, r.cert_id(serial).unwrap());
        let CertStatus::Revoked(info) = single.cert_status else {
            panic!("{:?}", single.cert_status);
        };
        assert_eq!(info.revocation_reason, Some(CrlReason::KeyCompromise));
        assert_eq!(
            info.revocation_time,
            time(now - Duration::hours(1)).unwrap()
        );
        assert_eq!(
            single.next_update,
            Some(time(now + Duration::hours(24)).unwrap())
        );
        // Unspecified is left out, as on the CRL.
        let der = r
            .sign_for_serial(
                serial,
                OcspStatus::Revoked {
                    at: now,
                    reason: RevocationReason::Unspecified,
                },
                now,
                now + Duration::hours(1),
            )
            .unwrap();
        let basic = BasicOcspResponse::from_der(
            OcspResponse::from_der(&der)
                .unwrap()
                .response_bytes
                .unwrap()
                .response
                .as_bytes(),
        )
        .unwrap();
        let CertStatus::Revoked(info) = basic.tbs_response_data.responses[0].cert_status else {
            panic!("not revoked");
        };
        assert_eq!(info.revocation_reason, None);
        assert!(
            r.sign_for_serial(serial, OcspStatus::Good, now, now)
                .is_err()
        );
    }
}
