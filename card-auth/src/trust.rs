//! The configured roots (e.g. GRCA) and optional intermediates (e.g. MOEACA's issuing CAs,
//! which the card does not send).

use x509_parser::pem::Pem;

use crate::cert;
use crate::error::CardAuthError;

/// Trust configuration: certificates are checked when added, kept as DER.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustStore {
    roots: Vec<Vec<u8>>,
    intermediates: Vec<Vec<u8>>,
}

impl TrustStore {
    /// An empty store; add roots before verifying (an empty store trusts nothing).
    pub fn new() -> Self {
        Self::default()
    }

    /// A store with the roots in `pem_or_der` (one DER certificate, or any number of PEM
    /// `CERTIFICATE` blocks).
    pub fn from_roots(pem_or_der: &[u8]) -> Result<Self, CardAuthError> {
        let mut store = Self::new();
        store.add_roots(pem_or_der)?;
        Ok(store)
    }

    /// Adds trusted roots; returns how many were added.
    pub fn add_roots(&mut self, pem_or_der: &[u8]) -> Result<usize, CardAuthError> {
        let certs = load(pem_or_der)?;
        let n = certs.len();
        self.roots.extend(certs);
        Ok(n)
    }

    /// Adds intermediates that may complete a path (they are not trusted by themselves).
    pub fn add_intermediates(&mut self, pem_or_der: &[u8]) -> Result<usize, CardAuthError> {
        let certs = load(pem_or_der)?;
        let n = certs.len();
        self.intermediates.extend(certs);
        Ok(n)
    }

    pub fn roots(&self) -> &[Vec<u8>] {
        &self.roots
    }

    pub fn intermediates(&self) -> &[Vec<u8>] {
        &self.intermediates
    }
}

/// PEM (one or more blocks) or a single DER certificate; each must parse.
fn load(pem_or_der: &[u8]) -> Result<Vec<Vec<u8>>, CardAuthError> {
    let ders = if pem_or_der.first() == Some(&0x30) {
        vec![pem_or_der.to_vec()]
    } else {
        let mut out = Vec::new();
        for block in Pem::iter_from_buffer(pem_or_der) {
            let block = block.map_err(|e| CardAuthError::BadTrustAnchor(format!("PEM: {e}")))?;
            if block.label == "CERTIFICATE" {
                out.push(block.contents);
            }
        }
        out
    };
    if ders.is_empty() {
        return Err(CardAuthError::BadTrustAnchor("no certificate found".into()));
    }
    for der in &ders {
        cert::parse(der).map_err(|e| CardAuthError::BadTrustAnchor(e.to_string()))?;
    }
    Ok(ders)
}
