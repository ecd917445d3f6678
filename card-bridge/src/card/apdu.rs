//! ISO 7816-4 command/response APDUs over a byte transport: short APDUs, command chaining
//! for long data (CLA bit 0x10), `61xx` GET RESPONSE and `6Cxx` Le correction.

use zeroize::Zeroizing;

use super::CardError;

/// Sends raw command APDUs and returns raw responses (data ‖ SW1 SW2).
pub trait Transport {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, CardError>;
}

/// A command APDU. `data` is kept in a wiping buffer because VERIFY carries the PIN.
#[derive(Clone, PartialEq, Eq)]
pub struct Command {
    pub cla: u8,
    pub ins: u8,
    pub p1: u8,
    pub p2: u8,
    pub data: Zeroizing<Vec<u8>>,
    /// Expect response data (`Le = 00`, i.e. up to 256 bytes, more via 61xx).
    pub expect_data: bool,
}

impl std::fmt::Debug for Command {
    // Never print the data: it may be a PIN.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Command({:02X} {:02X} {:02X} {:02X}, {} data bytes)",
            self.cla,
            self.ins,
            self.p1,
            self.p2,
            self.data.len()
        )
    }
}

impl Command {
    pub fn new(cla: u8, ins: u8, p1: u8, p2: u8, data: Vec<u8>, expect_data: bool) -> Self {
        Self {
            cla,
            ins,
            p1,
            p2,
            data: Zeroizing::new(data),
            expect_data,
        }
    }

    /// The short APDUs that carry this command: one if the data fits in 255 bytes, else a
    /// chain where all but the last set CLA bit 0x10. Only the last one carries Le.
    pub fn to_short_apdus(&self) -> Vec<Zeroizing<Vec<u8>>> {
        let chunks: Vec<&[u8]> = if self.data.is_empty() {
            vec![&[]]
        } else {
            self.data.chunks(255).collect()
        };
        let last = chunks.len() - 1;
        chunks
            .iter()
            .enumerate()
            .map(|(i, chunk)| {
                let mut apdu = Zeroizing::new(Vec::with_capacity(chunk.len() + 6));
                let cla = if i < last { self.cla | 0x10 } else { self.cla };
                apdu.extend([cla, self.ins, self.p1, self.p2]);
                if !chunk.is_empty() {
                    apdu.push(chunk.len() as u8);
                    apdu.extend_from_slice(chunk);
                }
                if i == last && self.expect_data {
                    apdu.push(0x00);
                }
                apdu
            })
            .collect()
    }
}

/// Response data and status word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub data: Vec<u8>,
    pub sw: u16,
}

impl Response {
    pub fn parse(raw: &[u8]) -> Result<Self, CardError> {
        if raw.len() < 2 {
            return Err(CardError::Card(format!(
                "response of {} bytes has no status word",
                raw.len()
            )));
        }
        let (data, sw) = raw.split_at(raw.len() - 2);
        Ok(Self {
            data: data.to_vec(),
            sw: u16::from_be_bytes([sw[0], sw[1]]),
        })
    }

    pub fn is_ok(&self) -> bool {
        self.sw == 0x9000
    }
}

/// Most GET RESPONSE rounds we follow; a PIV certificate object needs ~10 at 256 bytes.
const MAX_GET_RESPONSE: usize = 64;

/// Sends `cmd` (chaining as needed), then collects `61xx` continuations. The returned
/// status word is the final one; intermediate chain links must answer 9000.
pub fn transceive(t: &mut dyn Transport, cmd: &Command) -> Result<Response, CardError> {
    let apdus = cmd.to_short_apdus();
    let last = apdus.len() - 1;
    let mut response = None;
    for (i, apdu) in apdus.iter().enumerate() {
        let r = Response::parse(&t.transmit(apdu)?)?;
        if i < last && !r.is_ok() {
            return Ok(r);
        }
        response = Some(r);
    }
    let mut r = response.ok_or_else(|| CardError::Card("empty command".into()))?;

    // 6Cxx: wrong Le; the card tells the right one. Resend once with it.
    if r.sw & 0xFF00 == 0x6C00 {
        let mut apdu = apdus[last].clone();
        if cmd.expect_data {
            apdu.pop();
        }
        apdu.push((r.sw & 0xFF) as u8);
        r = Response::parse(&t.transmit(&apdu)?)?;
    }

    let mut data = std::mem::take(&mut r.data);
    let mut sw = r.sw;
    let mut rounds = 0;
    while sw & 0xFF00 == 0x6100 {
        rounds += 1;
        if rounds > MAX_GET_RESPONSE {
            return Err(CardError::Card("too many GET RESPONSE rounds".into()));
        }
        let le = (sw & 0xFF) as u8;
        let next = Response::parse(&t.transmit(&[cmd.cla & !0x10, 0xC0, 0x00, 0x00, le])?)?;
        data.extend_from_slice(&next.data);
        sw = next.sw;
    }
    Ok(Response { data, sw })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records what was sent and replays canned responses.
    struct Script {
        sent: Vec<Vec<u8>>,
        replies: Vec<Vec<u8>>,
    }

    impl Transport for Script {
        fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, CardError> {
            self.sent.push(apdu.to_vec());
            if self.replies.is_empty() {
                return Err(CardError::Card("script exhausted".into()));
            }
            Ok(self.replies.remove(0))
        }
    }

    #[test]
    fn short_command_with_le() {
        let cmd = Command::new(0x00, 0xCB, 0x3F, 0xFF, vec![0x5C, 0x01, 0x7E], true);
        let apdus = cmd.to_short_apdus();
        assert_eq!(apdus.len(), 1);
        assert_eq!(
            apdus[0].as_slice(),
            &[0x00, 0xCB, 0x3F, 0xFF, 0x03, 0x5C, 0x01, 0x7E, 0x00]
        );
        let no_data = Command::new(0x00, 0x20, 0xFF, 0x80, vec![], false);
        assert_eq!(
            no_data.to_short_apdus()[0].as_slice(),
            &[0x00, 0x20, 0xFF, 0x80]
        );
    }

    #[test]
    fn long_data_is_chained_with_cla_0x10() {
        let data: Vec<u8> = (0..266u32).map(|i| i as u8).collect();
        let cmd = Command::new(0x00, 0x87, 0x07, 0x9A, data.clone(), true);
        let apdus = cmd.to_short_apdus();
        assert_eq!(apdus.len(), 2);
        assert_eq!(&apdus[0][..5], &[0x10, 0x87, 0x07, 0x9A, 0xFF]);
        assert_eq!(apdus[0].len(), 5 + 255);
        assert_eq!(&apdus[1][..5], &[0x00, 0x87, 0x07, 0x9A, 11]);
        assert_eq!(*apdus[1].last().unwrap(), 0x00);
        let mut joined = apdus[0][5..].to_vec();
        joined.extend_from_slice(&apdus[1][5..apdus[1].len() - 1]);
        assert_eq!(joined, data);
    }

    #[test]
    fn get_response_collects_61xx_continuations() {
        let mut t = Script {
            sent: vec![],
            replies: vec![
                [vec![1; 256], vec![0x61, 0x00]].concat(),
                [vec![2; 256], vec![0x61, 0x10]].concat(),
                [vec![3; 16], vec![0x90, 0x00]].concat(),
            ],
        };
        let cmd = Command::new(0x00, 0xCB, 0x3F, 0xFF, vec![0x5C, 0x01, 0x7E], true);
        let r = transceive(&mut t, &cmd).unwrap();
        assert_eq!(r.sw, 0x9000);
        assert_eq!(r.data.len(), 256 + 256 + 16);
        assert_eq!(t.sent[1], vec![0x00, 0xC0, 0x00, 0x00, 0x00]);
        assert_eq!(t.sent[2], vec![0x00, 0xC0, 0x00, 0x00, 0x10]);
    }

    #[test]
    fn chain_stops_at_a_refused_link_and_6cxx_is_retried() {
        let mut t = Script {
            sent: vec![],
            replies: vec![vec![0x6A, 0x80]],
        };
        let cmd = Command::new(0x00, 0x87, 0x07, 0x9A, vec![0; 300], true);
        assert_eq!(transceive(&mut t, &cmd).unwrap().sw, 0x6A80);
        assert_eq!(t.sent.len(), 1);

        let mut t = Script {
            sent: vec![],
            replies: vec![vec![0x6C, 0x08], [vec![9; 8], vec![0x90, 0x00]].concat()],
        };
        let cmd = Command::new(0x00, 0xCA, 0x00, 0x00, vec![], true);
        let r = transceive(&mut t, &cmd).unwrap();
        assert_eq!(r.data, vec![9; 8]);
        assert_eq!(t.sent[1], vec![0x00, 0xCA, 0x00, 0x00, 0x08]);
    }

    #[test]
    fn debug_hides_command_data() {
        let cmd = Command::new(0x00, 0x20, 0x00, 0x80, b"12345678".to_vec(), false);
        let s = format!("{cmd:?}");
        assert!(!s.contains("31"), "{s}");
        assert!(s.contains("8 data bytes"));
    }

    #[test]
    fn short_response_is_an_error() {
        assert!(Response::parse(&[0x90]).is_err());
    }
}
