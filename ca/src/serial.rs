//! Certificate serial numbers: 128 bits from the operating system's CSPRNG, positive and
//! non-zero, always handed to rcgen explicitly. Never derived from the key (rcgen's default
//! when no serial is set), so renewing with the same key still gets a fresh serial.

use crate::{CaError, Serial};

impl Serial {
    /// A fresh serial from the OS random generator.
    ///
    /// # Panics
    /// Only when the operating system cannot supply random bytes at all (no `getrandom`
    /// syscall and no `/dev/urandom`). A predictable serial would be worse than stopping;
    /// callers that prefer an error use [`Serial::try_random`].
    #[allow(clippy::panic)]
    pub fn random() -> Self {
        match Self::try_random() {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        }
    }

    /// A fresh serial, or an error when the OS random generator fails.
    pub fn try_random() -> Result<Self, CaError> {
        loop {
            let mut bytes = [0u8; 16];
            getrandom::fill(&mut bytes)
                .map_err(|e| CaError::Build(format!("OS random generator failed: {e}")))?;
            // Top bit clear: the DER INTEGER stays positive without a padding byte.
            bytes[0] &= 0x7f;
            // Zero is not a valid serial (RFC 5280 4.1.2.2); odds are 2^-127, but cheap.
            if bytes != [0u8; 16] {
                return Ok(Serial(bytes));
            }
        }
    }

    /// Lower-case hex, 32 characters.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    pub fn from_hex(s: &str) -> Option<Self> {
        if s.len() != 32 {
            return None;
        }
        let mut out = [0u8; 16];
        for (i, slot) in out.iter_mut().enumerate() {
            *slot = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(Serial(out))
    }

    /// The serial from an INTEGER's magnitude bytes (leading zeros allowed), if it fits.
    pub fn from_magnitude(bytes: &[u8]) -> Option<Self> {
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        let digits = &bytes[skip..];
        if digits.is_empty() || digits.len() > 16 {
            return None;
        }
        let mut out = [0u8; 16];
        out[16 - digits.len()..].copy_from_slice(digits);
        Some(Serial(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn random_serials_are_positive_non_zero_and_distinct() {
        let mut seen = HashSet::new();
        let mut top_bits_seen = 0u8;
        for _ in 0..10_000 {
            let s = Serial::random();
            assert_eq!(s.0[0] & 0x80, 0, "top bit must be clear");
            assert_ne!(s.0, [0u8; 16]);
            top_bits_seen |= s.0[0];
            assert!(seen.insert(s), "repeated serial {}", s.to_hex());
        }
        // The other 127 bits really vary: bit 6 of the first byte was set at least once.
        assert_eq!(top_bits_seen & 0x40, 0x40);
    }

    #[test]
    fn hex_round_trips() {
        let s = Serial::random();
        let hex = s.to_hex();
        assert_eq!(hex.len(), 32);
        assert_eq!(Serial::from_hex(&hex), Some(s));
        assert_eq!(Serial::from_hex("00"), None);
        assert_eq!(Serial::from_hex(&"zz".repeat(16)), None);
    }

    #[test]
    fn magnitudes_read_back() {
        let mut bytes = [0u8; 16];
        bytes[15] = 0x80;
        let s = Serial(bytes);
        assert_eq!(Serial::from_magnitude(&[0x00, 0x80]), Some(s));
        assert_eq!(Serial::from_magnitude(&[1u8; 17]), None);
        assert_eq!(Serial::from_magnitude(&[0, 0]), None);
    }
}
