//! A gzip bomb: a valid gzip stream of a few kilobytes that expands to many
//! megabytes of valid JSON.
//!
//! Written by hand (one fixed-Huffman deflate block: literals, then runs of
//! spaces as length-258 / distance-1 back-references, 13 bits per 258
//! bytes) so that building a 40 MiB bomb costs no compression work.

/// `json` (an object or array) padded with spaces before its final byte to
/// `expanded` bytes in all, gzip-compressed.
pub(crate) fn bomb(json: &[u8], expanded: usize) -> Vec<u8> {
    let (prefix, suffix) = json.split_at(json.len().saturating_sub(1));
    let run = expanded.saturating_sub(json.len()).max(1);

    let mut bits = BitWriter::default();
    bits.write(1, 1); // BFINAL
    bits.write(1, 2); // BTYPE = 01, fixed Huffman codes
    for &byte in prefix {
        bits.literal(u16::from(byte));
    }
    bits.literal(u16::from(b' '));
    let mut left = run - 1;
    while left >= 258 {
        // Length 258 is symbol 285 (8-bit code 0xC5, no extra bits); distance
        // 1 is distance code 0 (5 bits, no extra bits).
        bits.code(0xC5, 8);
        bits.code(0, 5);
        left -= 258;
    }
    for _ in 0..left {
        bits.literal(u16::from(b' '));
    }
    for &byte in suffix {
        bits.literal(u16::from(byte));
    }
    bits.literal(256); // end of block
    let deflated = bits.finish();

    let mut crc = Crc32::new();
    crc.update(prefix);
    crc.update_repeated(b' ', run);
    crc.update(suffix);
    let size = (prefix.len() + run + suffix.len()) as u32;

    let mut out = Vec::with_capacity(deflated.len() + 18);
    out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
    out.extend_from_slice(&deflated);
    out.extend_from_slice(&crc.finish().to_le_bytes());
    out.extend_from_slice(&size.to_le_bytes());
    out
}

#[derive(Default)]
struct BitWriter {
    out: Vec<u8>,
    current: u32,
    filled: u32,
}

impl BitWriter {
    /// `count` bits of `value`, least significant first (header fields).
    fn write(&mut self, value: u32, count: u32) {
        for i in 0..count {
            self.push((value >> i) & 1);
        }
    }

    /// A Huffman code, most significant bit first.
    fn code(&mut self, code: u32, length: u32) {
        for i in (0..length).rev() {
            self.push((code >> i) & 1);
        }
    }

    /// A literal/length symbol with the fixed Huffman code.
    fn literal(&mut self, symbol: u16) {
        let s = u32::from(symbol);
        match s {
            0..=143 => self.code(0x30 + s, 8),
            144..=255 => self.code(0x190 + (s - 144), 9),
            256..=279 => self.code(s - 256, 7),
            _ => self.code(0xC0 + (s - 280), 8),
        }
    }

    fn push(&mut self, bit: u32) {
        self.current |= bit << self.filled;
        self.filled += 1;
        if self.filled == 8 {
            self.out.push(self.current as u8);
            self.current = 0;
            self.filled = 0;
        }
    }

    fn finish(mut self) -> Vec<u8> {
        if self.filled > 0 {
            self.out.push(self.current as u8);
        }
        self.out
    }
}

/// CRC-32 (IEEE), as gzip's trailer holds it.
struct Crc32 {
    table: [u32; 256],
    value: u32,
}

impl Crc32 {
    fn new() -> Crc32 {
        let mut table = [0u32; 256];
        for (n, slot) in table.iter_mut().enumerate() {
            let mut c = n as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
            }
            *slot = c;
        }
        Crc32 { table, value: 0xFFFF_FFFF }
    }

    fn update(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.value = self.table[((self.value ^ u32::from(b)) & 0xFF) as usize] ^ (self.value >> 8);
        }
    }

    fn update_repeated(&mut self, byte: u8, count: usize) {
        let mut value = self.value;
        let table = &self.table;
        for _ in 0..count {
            value = table[((value ^ u32::from(byte)) & 0xFF) as usize] ^ (value >> 8);
        }
        self.value = value;
    }

    fn finish(&self) -> u32 {
        self.value ^ 0xFFFF_FFFF
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn the_bomb_is_small_and_expands_to_the_padded_json() {
        let json = br#"{"results":[{"id":"a"}],"total":1}"#;
        let bomb = bomb(json, 1_000_000);
        assert!(bomb.len() < 8_000, "{} bytes", bomb.len());
        let mut expanded = Vec::new();
        flate2::read::GzDecoder::new(bomb.as_slice()).read_to_end(&mut expanded).unwrap();
        assert_eq!(expanded.len(), 1_000_000);
        let value: serde_json::Value = serde_json::from_slice(&expanded).unwrap();
        assert_eq!(value["results"][0]["id"], "a");
        assert!(expanded.starts_with(&json[..json.len() - 1]));
    }

    #[test]
    fn every_byte_value_and_odd_run_lengths_round_trip() {
        let data: Vec<u8> = (0u8..=255).chain(0u8..=255).collect();
        for expanded in [data.len(), data.len() + 1, data.len() + 258, data.len() + 259, data.len() + 1000] {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(bomb(&data, expanded).as_slice()).read_to_end(&mut out).unwrap();
            let run = expanded.saturating_sub(data.len()).max(1);
            let mut want = data[..data.len() - 1].to_vec();
            want.extend(std::iter::repeat_n(b' ', run));
            want.push(data[data.len() - 1]);
            assert_eq!(out, want, "expanded {expanded}");
        }
    }
}
