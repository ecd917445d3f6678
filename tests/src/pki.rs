//! A throwaway CA and a server certificate for 127.0.0.1, as PEM files, for the TLS modes of
//! the SMTP sink ([`crate::smtp`]): the mailer's and the server's mail tests trust this CA.

use std::path::{Path, PathBuf};

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};

pub struct Pki {
    /// Trust this (`tls_ca_file`).
    pub ca: PathBuf,
    /// The SMTP server's certificate and key.
    pub cert: PathBuf,
    pub key: PathBuf,
}

pub fn make_pki(dir: &Path) -> Pki {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "SMTP test CA");
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::from_params(&ca_params, &ca_key);

    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &issuer)
        .unwrap();

    let pki = Pki {
        ca: dir.join("smtp-ca.pem"),
        cert: dir.join("smtp-cert.pem"),
        key: dir.join("smtp-key.pem"),
    };
    std::fs::write(&pki.ca, ca_cert.pem()).unwrap();
    std::fs::write(&pki.cert, leaf.pem()).unwrap();
    std::fs::write(&pki.key, leaf_key.serialize_pem()).unwrap();
    pki
}
