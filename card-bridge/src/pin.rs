//! The card PIN: wiped from memory on drop, never printed.

use serde::{Deserialize, Deserializer};
use zeroize::Zeroizing;

/// A PIN as typed by the user. `Debug` prints `Pin(<redacted>)`; there is no `Display` and
/// no `Serialize`, so it cannot end up in a log line or a response by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Pin(Zeroizing<String>);

impl Pin {
    pub fn new(pin: impl Into<String>) -> Self {
        Self(Zeroizing::new(pin.into()))
    }

    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// HiPKI clients percent-encode the PIN (`encodeURIComponent`) and the component
    /// decodes it; see `hipki::package`.
    pub(crate) fn map(&self, f: impl FnOnce(&str) -> String) -> Self {
        Self::new(f(&self.0))
    }
}

impl std::fmt::Debug for Pin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pin(<redacted>)")
    }
}

impl<'de> Deserialize<'de> for Pin {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // The intermediate String is moved into the Zeroizing wrapper, not copied.
        Ok(Self::new(String::deserialize(d)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_pin() {
        let pin = Pin::new("123456");
        let printed = format!("{pin:?} {:?}", Some(&pin));
        assert!(!printed.contains("123456"), "{printed}");
        assert!(printed.contains("redacted"));
    }

    #[test]
    fn deserializes_from_a_json_string() {
        let pin: Pin = serde_json::from_str("\"0000\"").unwrap();
        assert_eq!(pin.as_bytes(), b"0000");
        assert_eq!(pin.len(), 4);
    }
}
