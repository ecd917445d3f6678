//! A PIV card in memory (tests only), behaving like `shared/tools/piv_vicc.py`: short APDUs only,
//! 256-byte answers with `61xx`, CLA 0x10 chaining, PIN retry counter.

use rsa::Pkcs1v15Sign;

use super::apdu::Transport;
use super::piv::PIV_AID;
use super::{CardError, tlv};

pub struct FakePiv {
    pub cert_der: Option<Vec<u8>>,
    pub key: rsa::PrivateKey,
    pub pin: Vec<u8>,
    pub retries: u8,
    pub guid: [u8; 16],
    pub present: bool,
    /// Every APDU received, for assertions.
    pub log: Vec<Vec<u8>>,
    selected: bool,
    verified: bool,
    chain: Vec<u8>,
    pending: Vec<u8>,
}

impl FakePiv {
    pub fn new(cert_der: Vec<u8>, key: rsa::PrivateKey, pin: &str) -> Self {
        Self {
            cert_der: Some(cert_der),
            key,
            pin: pin.as_bytes().to_vec(),
            retries: 3,
            guid: [0xA5; 16],
            present: true,
            log: Vec::new(),
            selected: false,
            verified: false,
            chain: Vec::new(),
            pending: Vec::new(),
        }
    }

    fn respond(&mut self, data: Vec<u8>) -> Vec<u8> {
        if data.len() <= 256 {
            return [data, vec![0x90, 0x00]].concat();
        }
        self.pending = data[256..].to_vec();
        let rest = self.pending.len().min(256) as u8;
        [data[..256].to_vec(), vec![0x61, rest]].concat()
    }

    fn execute(&mut self, apdu: &[u8]) -> Vec<u8> {
        let (cla, ins, p1, p2) = (apdu[0], apdu[1], apdu[2], apdu[3]);
        let body = &apdu[4..];
        let (data, le) = match body.len() {
            0 => (&[][..], 0usize),
            1 => (&[][..], usize::from(body[0])),
            _ => {
                let lc = usize::from(body[0]);
                let le = body.get(1 + lc).map_or(0, |&b| usize::from(b));
                (&body[1..1 + lc], le)
            }
        };
        if ins == 0xC0 {
            let n = if le == 0 { 256 } else { le };
            let n = n.min(self.pending.len());
            let chunk: Vec<u8> = self.pending.drain(..n).collect();
            if self.pending.is_empty() {
                return [chunk, vec![0x90, 0x00]].concat();
            }
            let rest = self.pending.len().min(256) as u8;
            return [chunk, vec![0x61, rest]].concat();
        }
        self.pending.clear();
        if cla & 0x10 != 0 {
            self.chain.extend_from_slice(data);
            return vec![0x90, 0x00];
        }
        let data = [std::mem::take(&mut self.chain), data.to_vec()].concat();
        match (ins, p1, p2) {
            (0xA4, 0x04, _) => {
                if data.starts_with(&PIV_AID) {
                    self.selected = true;
                    // Application property template: AID and its authority.
                    let apt = [
                        tlv::encode(&[0x4F], &[0, 0, 0x10, 0, 1, 0]),
                        tlv::encode(&[0x79], &tlv::encode(&[0x4F], &PIV_AID)),
                    ]
                    .concat();
                    self.respond(tlv::encode(&[0x61], &apt))
                } else {
                    vec![0x6A, 0x82]
                }
            }
            _ if !self.selected => vec![0x69, 0x85],
            (0xCB, 0x3F, 0xFF) => {
                let tag = tlv::find(&data, &[0x5C])
                    .ok()
                    .flatten()
                    .unwrap_or(&[])
                    .to_vec();
                let object = match tag.as_slice() {
                    [0x5F, 0xC1, 0x05] => self.cert_der.clone().map(|c| {
                        tlv::encode(
                            &[0x53],
                            &[
                                tlv::encode(&[0x70], &c),
                                tlv::encode(&[0x71], &[0]),
                                tlv::encode(&[0xFE], &[]),
                            ]
                            .concat(),
                        )
                    }),
                    [0x5F, 0xC1, 0x02] => Some(tlv::encode(
                        &[0x53],
                        &[
                            tlv::encode(&[0x30], &[0xD4; 25]),
                            tlv::encode(&[0x34], &self.guid),
                        ]
                        .concat(),
                    )),
                    _ => None,
                };
                match object {
                    Some(o) => self.respond(o),
                    None => vec![0x6A, 0x82],
                }
            }
            (0x20, 0xFF, 0x80) => {
                self.verified = false;
                vec![0x90, 0x00]
            }
            (0x20, 0x00, 0x80) => {
                if self.retries == 0 {
                    return vec![0x69, 0x83];
                }
                let typed: Vec<u8> = data.iter().copied().take_while(|&b| b != 0xFF).collect();
                if data.len() == 8 && typed == self.pin {
                    self.verified = true;
                    self.retries = 3;
                    vec![0x90, 0x00]
                } else {
                    self.retries -= 1;
                    self.verified = false;
                    vec![0x63, 0xC0 | self.retries]
                }
            }
            (0x87, 0x07, 0x9A) => {
                if !self.verified {
                    return vec![0x69, 0x82];
                }
                let Some(outer) = tlv::find(&data, &[0x7C]).ok().flatten() else {
                    return vec![0x6A, 0x80];
                };
                let Some(block) = tlv::find(outer, &[0x81]).ok().flatten() else {
                    return vec![0x6A, 0x80];
                };
                // Raw RSA on a PKCS#1 v1.5 block equals signing its DigestInfo unprefixed;
                // a malformed block is refused like a real card would compute garbage.
                let Some(t) = unpad(block) else {
                    return vec![0x6A, 0x80];
                };
                let sig = self.key.sign(Pkcs1v15Sign::new_unprefixed(), t).unwrap();
                let answer = tlv::encode(&[0x7C], &tlv::encode(&[0x82], &sig));
                self.respond(answer)
            }
            _ => vec![0x6D, 0x00],
        }
    }
}

fn unpad(block: &[u8]) -> Option<&[u8]> {
    if block.len() != 256 || block[0] != 0 || block[1] != 1 {
        return None;
    }
    let sep = block[2..].iter().position(|&b| b != 0xFF)? + 2;
    (block[sep] == 0 && sep >= 10).then(|| &block[sep + 1..])
}

impl Transport for FakePiv {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, CardError> {
        if !self.present {
            return Err(CardError::CardRemoved);
        }
        self.log.push(apdu.to_vec());
        if apdu.len() > 5 + 255 + 1 {
            return Ok(vec![0x67, 0x00]); // short APDUs only
        }
        Ok(self.execute(apdu))
    }
}
