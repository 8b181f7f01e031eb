//! A SHA-256 whose state can be saved and restored: a resumable upload keeps the whole file's hash at
//! each durable offset, so a resume (after a restart too) never reads the prefix again.
//!
//! `sha2` 0.10 cannot serialise its hasher, but it exports its block function (`compress256`, with the
//! same SHA-NI/AVX2 code the hasher uses), so the state is ours: eight words, the count of blocks, and
//! the partial block. Measured against re-hashing the prefix in `tests/it/tus_upload.rs`.

use sha2::digest::{consts::U64, generic_array::GenericArray};

use super::checksum::Sha256Digest;

const H0: [u32; 8] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

#[derive(Clone, PartialEq, Eq)]
pub struct Sha256State {
    h: [u32; 8],
    /// Whole 64-byte blocks compressed so far.
    blocks: u64,
    partial: [u8; 64],
    partial_len: usize,
}

#[derive(Debug, thiserror::Error)]
#[error("a saved SHA-256 state is damaged")]
pub struct DamagedState;

impl Default for Sha256State {
    fn default() -> Self {
        Self { h: H0, blocks: 0, partial: [0; 64], partial_len: 0 }
    }
}

impl std::fmt::Debug for Sha256State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sha256State({} bytes)", self.hashed_bytes())
    }
}

impl Sha256State {
    /// Bytes hashed so far.
    pub fn hashed_bytes(&self) -> u64 {
        self.blocks * 64 + self.partial_len as u64
    }

    pub fn update(&mut self, mut data: &[u8]) {
        if self.partial_len > 0 {
            let take = data.len().min(64 - self.partial_len);
            self.partial[self.partial_len..self.partial_len + take].copy_from_slice(&data[..take]);
            self.partial_len += take;
            data = &data[take..];
            if self.partial_len < 64 {
                return;
            }
            let block = self.partial;
            self.compress(&block);
            self.partial_len = 0;
        }
        let whole = data.len() - data.len() % 64;
        // Many blocks per call: `compress256` loops over them in its SIMD code.
        self.compress(&data[..whole]);
        let rest = &data[whole..];
        self.partial[..rest.len()].copy_from_slice(rest);
        self.partial_len = rest.len();
    }

    fn compress(&mut self, blocks: &[u8]) {
        debug_assert_eq!(blocks.len() % 64, 0);
        let n = blocks.len() / 64;
        // SAFETY: `GenericArray<u8, U64>` is a `repr(transparent)` `[u8; 64]` (alignment 1), and `blocks`
        // holds exactly `n` of them.
        let blocks: &[GenericArray<u8, U64>] = unsafe { std::slice::from_raw_parts(blocks.as_ptr().cast(), n) };
        sha2::compress256(&mut self.h, blocks);
        self.blocks += n as u64;
    }

    pub fn finalize(mut self) -> Sha256Digest {
        let bits = self.hashed_bytes() * 8;
        let mut tail = [0u8; 128];
        tail[..self.partial_len].copy_from_slice(&self.partial[..self.partial_len]);
        tail[self.partial_len] = 0x80;
        let end = if self.partial_len < 56 { 64 } else { 128 };
        tail[end - 8..end].copy_from_slice(&bits.to_be_bytes());
        let blocks = self.blocks;
        self.compress(&tail[..end]);
        self.blocks = blocks;
        let mut out = [0u8; 32];
        for (chunk, word) in out.chunks_exact_mut(4).zip(self.h) {
            chunk.copy_from_slice(&word.to_be_bytes());
        }
        Sha256Digest(out)
    }

    /// 32 bytes of state, 8 of block count, then the partial block (0–63 bytes).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(40 + self.partial_len);
        self.h.iter().for_each(|w| out.extend_from_slice(&w.to_be_bytes()));
        out.extend_from_slice(&self.blocks.to_be_bytes());
        out.extend_from_slice(&self.partial[..self.partial_len]);
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DamagedState> {
        if !(40..104).contains(&bytes.len()) {
            return Err(DamagedState);
        }
        let mut s = Self::default();
        for (word, chunk) in s.h.iter_mut().zip(bytes[..32].chunks_exact(4)) {
            *word = u32::from_be_bytes(chunk.try_into().expect("4 bytes"));
        }
        s.blocks = u64::from_be_bytes(bytes[32..40].try_into().expect("8 bytes"));
        s.partial_len = bytes.len() - 40;
        s.partial[..s.partial_len].copy_from_slice(&bytes[40..]);
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};

    use super::*;

    #[test]
    fn matches_sha2_at_every_boundary_and_survives_a_round_trip() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 7 % 251) as u8).collect();
        for len in [0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 999, 1000] {
            let want: [u8; 32] = Sha256::digest(&data[..len]).into();
            for split in [0, 1, 63, 64, len / 2, len] {
                let split = split.min(len);
                let mut s = Sha256State::default();
                s.update(&data[..split]);
                let mut resumed = Sha256State::from_bytes(&s.to_bytes()).unwrap();
                assert_eq!(resumed, s);
                resumed.update(&data[split..len]);
                assert_eq!(resumed.finalize().0, want, "{len} bytes split at {split}");
            }
        }
        assert!(Sha256State::from_bytes(&[0; 39]).is_err());
    }
}
