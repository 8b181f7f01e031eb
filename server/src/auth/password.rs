//! Password hashing with argon2id (OWASP's m = 19 MiB, t = 2, p = 1), always on a blocking thread: a
//! hash takes tens of milliseconds of CPU, which must not stall the async runtime.
//!
//! Stored as `$argon2id$v=19$m=19456,t=2,p=1$<salt hex>$<hash hex>`: the parameters travel with each
//! hash, so stronger ones later still verify the old.

use argon2::{Algorithm, Argon2, Params, Version};
use rand::RngCore;

/// OWASP's minimum for argon2id (2024): 19 MiB of memory, two passes, one lane.
const MEMORY_KIB: u32 = 19 * 1024;
const PASSES: u32 = 2;
const LANES: u32 = 1;
const OUTPUT: usize = 32;

/// A hash of a password nobody has, verified when a user does not exist, so a sign-in takes as long
/// whether the user exists or not.
pub const DECOY: &str = "$argon2id$v=19$m=19456,t=2,p=1$\
    00000000000000000000000000000000$0000000000000000000000000000000000000000000000000000000000000000";

fn hasher(m: u32, t: u32, p: u32) -> Option<Argon2<'static>> {
    Some(Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(m, t, p, Some(OUTPUT)).ok()?))
}

fn hash_now(password: &str) -> String {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let mut out = [0u8; OUTPUT];
    hasher(MEMORY_KIB, PASSES, LANES)
        .expect("valid parameters")
        .hash_password_into(password.as_bytes(), &salt, &mut out)
        .expect("hashing into a 32-byte output");
    format!("$argon2id$v=19$m={MEMORY_KIB},t={PASSES},p={LANES}${}${}", hex::encode(salt), hex::encode(out))
}

fn verify_now(password: &str, stored: &str) -> bool {
    let parts: Vec<&str> = stored.split('$').collect();
    let ["", "argon2id", "v=19", params, salt, hash] = parts.as_slice() else { return false };
    let mut m = None;
    let mut t = None;
    let mut p = None;
    for kv in params.split(',') {
        match kv.split_once('=') {
            Some(("m", v)) => m = v.parse().ok(),
            Some(("t", v)) => t = v.parse().ok(),
            Some(("p", v)) => p = v.parse().ok(),
            _ => return false,
        }
    }
    let (Some(m), Some(t), Some(p), Ok(salt), Ok(want)) = (m, t, p, hex::decode(salt), hex::decode(hash)) else {
        return false;
    };
    let Some(h) = hasher(m, t, p) else { return false };
    let mut out = vec![0u8; want.len().max(1)];
    if h.hash_password_into(password.as_bytes(), &salt, &mut out).is_err() {
        return false;
    }
    crate::auth::secret::same(&out, &want)
}

/// Hashes `password` with a fresh salt, off the async runtime.
pub async fn hash(password: String) -> String {
    tokio::task::spawn_blocking(move || hash_now(&password)).await.expect("hashing never panics")
}

/// Whether `password` matches `stored` (a hash made by [`hash`]), off the async runtime. An unreadable
/// stored hash matches nothing.
pub async fn verify(password: String, stored: String) -> bool {
    tokio::task::spawn_blocking(move || verify_now(&password, &stored)).await.unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let h = hash_now("correct horse");
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify_now("correct horse", &h));
        assert!(!verify_now("correct horsE", &h));
        assert_ne!(h, hash_now("correct horse"), "salted");
        assert!(!verify_now("anything", DECOY));
        assert!(!verify_now("x", "$argon2id$v=19$m=1,t=1,p=1$zz$zz"));
        assert!(!verify_now("x", "plain text"));
    }
}
