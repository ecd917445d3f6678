//! The few DER constructors the CMS (PKCS#7) answer needs.

pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes = n.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

pub fn sequence(parts: &[Vec<u8>]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

/// `SET OF`: DER sorts the encoded elements.
pub fn set_of(parts: &[Vec<u8>]) -> Vec<u8> {
    tlv(0x31, &sorted(parts))
}

/// The content of a DER `SET OF` (sorted elements, without tag and length).
pub fn sorted(parts: &[Vec<u8>]) -> Vec<u8> {
    let mut parts = parts.to_vec();
    parts.sort();
    parts.concat()
}

pub fn oid(content: &[u8]) -> Vec<u8> {
    tlv(0x06, content)
}

pub fn null() -> Vec<u8> {
    vec![0x05, 0x00]
}

pub fn integer_u8(v: u8) -> Vec<u8> {
    if v & 0x80 != 0 {
        tlv(0x02, &[0x00, v])
    } else {
        tlv(0x02, &[v])
    }
}

pub fn octet_string(content: &[u8]) -> Vec<u8> {
    tlv(0x04, content)
}

pub fn printable_string(s: &str) -> Vec<u8> {
    tlv(0x13, s.as_bytes())
}

/// `[n] EXPLICIT` (constructed context tag).
pub fn explicit(n: u8, inner: &[u8]) -> Vec<u8> {
    tlv(0xA0 | n, inner)
}

/// UTCTime `YYMMDDHHMMSSZ` (years 1950–2049, as RFC 5652 signingTime requires).
pub fn utc_time(t: time::OffsetDateTime) -> Vec<u8> {
    let t = t.to_offset(time::UtcOffset::UTC);
    let s = format!(
        "{:02}{:02}{:02}{:02}{:02}{:02}Z",
        t.year().rem_euclid(100),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    tlv(0x17, s.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths() {
        assert_eq!(tlv(0x04, &[1, 2]), vec![0x04, 0x02, 1, 2]);
        assert_eq!(&tlv(0x04, &[0; 200])[..3], &[0x04, 0x81, 200]);
        assert_eq!(&tlv(0x04, &[0; 300])[..4], &[0x04, 0x82, 0x01, 0x2C]);
        assert_eq!(
            &tlv(0x04, &[0; 70000])[..5],
            &[0x04, 0x83, 0x01, 0x11, 0x70]
        );
    }

    #[test]
    fn set_of_is_sorted_and_integers_are_positive() {
        assert_eq!(
            set_of(&[vec![0x02, 0x01, 0x05], vec![0x02, 0x01, 0x01]]),
            vec![0x31, 6, 2, 1, 1, 2, 1, 5]
        );
        assert_eq!(integer_u8(1), vec![0x02, 0x01, 0x01]);
        assert_eq!(integer_u8(0x80), vec![0x02, 0x02, 0x00, 0x80]);
    }

    #[test]
    fn utc_time_format() {
        let t = time::OffsetDateTime::from_unix_timestamp(1_767_225_600).unwrap();
        assert_eq!(
            utc_time(t),
            [vec![0x17, 13], b"260101000000Z".to_vec()].concat()
        );
    }
}
