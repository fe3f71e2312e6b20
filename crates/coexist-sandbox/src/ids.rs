//! Realistic, seedable identifiers.
//!
//! Every id the sandbox invents (wamids, media ids, trace ids) comes from one seeded `StdRng`, so a
//! scenario run twice with the same seed produces byte-identical webhooks.

use base64::Engine as _;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Which way a message travels; Meta's wamids differ slightly between the two.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Sent by the business (Cloud API send or Business App echo).
    Outbound,
    /// Sent by a customer to the business.
    Inbound,
}

/// A seeded source of ids shaped like Meta's.
#[derive(Debug)]
pub struct IdGen {
    rng: StdRng,
}

impl IdGen {
    pub fn new(seed: u64) -> Self {
        IdGen {
            rng: StdRng::seed_from_u64(seed),
        }
    }

    /// A wamid like Meta's: `wamid.` + base64 of a small protobuf-like record holding the
    /// customer's number and a random hex id (`wamid.HBgLMTY1MDUwNzY1MjAVAgARGBI5QTND...`).
    pub fn wamid(&mut self, customer_wa_id: &str, direction: Direction) -> String {
        let (tag, hex_len) = match direction {
            Direction::Outbound => (0x11u8, 18usize),
            Direction::Inbound => (0x12u8, 20usize),
        };
        let phone: String = customer_wa_id
            .chars()
            .filter(|c| c.is_ascii_digit())
            .take(20)
            .collect();
        let hex_id = self.upper_hex(hex_len);
        let mut raw = vec![0x1C, 0x18, phone.len() as u8];
        raw.extend_from_slice(phone.as_bytes());
        raw.extend_from_slice(&[0x15, 0x02, 0x00, tag, 0x18, hex_len as u8]);
        raw.extend_from_slice(hex_id.as_bytes());
        raw.push(0x00);
        format!(
            "wamid.{}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        )
    }

    /// Meta's `fbtrace_id`: 27 URL-safe characters.
    pub fn fbtrace_id(&mut self) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
        (0..27)
            .map(|_| ALPHABET[self.rng.gen_range(0..ALPHABET.len())] as char)
            .collect()
    }

    /// A numeric Graph id (media ids, template ids, conversation ids use this shape).
    pub fn numeric_id(&mut self, digits: usize) -> String {
        let mut s = String::with_capacity(digits);
        s.push(char::from(b'1' + self.rng.gen_range(0..9u8)));
        for _ in 1..digits {
            s.push(char::from(b'0' + self.rng.gen_range(0..10u8)));
        }
        s
    }

    /// Lowercase hex, e.g. a media file's sha256 or a conversation id.
    pub fn lower_hex(&mut self, len: usize) -> String {
        (0..len)
            .map(|_| char::from_digit(self.rng.gen_range(0..16), 16).unwrap_or('0'))
            .collect()
    }

    fn upper_hex(&mut self, len: usize) -> String {
        self.lower_hex(len).to_ascii_uppercase()
    }

    /// A number in `[lo, hi)` — for scenario choices that must follow the seed.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        self.rng.gen_range(lo..hi)
    }

    /// Pick one element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.rng.gen_range(0..items.len())]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wamid_decodes_to_the_customer_number() {
        let mut ids = IdGen::new(7);
        let w = ids.wamid("16505551234", Direction::Outbound);
        assert!(w.starts_with("wamid.HBgL"), "{w}");
        let raw = base64::engine::general_purpose::STANDARD
            .decode(&w[6..])
            .unwrap();
        assert_eq!(&raw[3..14], b"16505551234");
    }

    #[test]
    fn same_seed_same_ids_different_seed_different_ids() {
        let a: Vec<String> = (0..5)
            .map({
                let mut g = IdGen::new(1);
                move |_| g.wamid("1555", Direction::Inbound)
            })
            .collect();
        let b: Vec<String> = (0..5)
            .map({
                let mut g = IdGen::new(1);
                move |_| g.wamid("1555", Direction::Inbound)
            })
            .collect();
        let c: Vec<String> = (0..5)
            .map({
                let mut g = IdGen::new(2);
                move |_| g.wamid("1555", Direction::Inbound)
            })
            .collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
