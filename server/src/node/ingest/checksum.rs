//! SHA-256 digests as the wire writes them: `sha256:<64 lowercase hex digits>`.

use std::fmt;

#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Sha256Digest(pub [u8; 32]);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("The checksum \"{0}\" is not valid: write it as sha256: followed by 64 hexadecimal digits.")]
pub struct ChecksumError(pub String);

impl Sha256Digest {
    pub fn parse(s: &str) -> Result<Self, ChecksumError> {
        let err = || ChecksumError(s.chars().take(80).collect());
        let hex_part = s.trim().strip_prefix("sha256:").ok_or_else(err)?;
        let mut out = [0u8; 32];
        hex::decode_to_slice(hex_part, &mut out).map_err(|_| err())?;
        Ok(Self(out))
    }

    pub fn to_wire(&self) -> String {
        format!("sha256:{}", hex::encode(self.0))
    }
}

impl fmt::Debug for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_wire())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_wire_form_only() {
        let hex = "ab".repeat(32);
        let d = Sha256Digest::parse(&format!("sha256:{hex}")).unwrap();
        assert_eq!(d.to_wire(), format!("sha256:{hex}"));
        assert_eq!(Sha256Digest::parse(&format!("sha256:{}", hex.to_uppercase())).unwrap(), d);
        assert!(Sha256Digest::parse(&hex).is_err());
        assert!(Sha256Digest::parse("sha256:abc").is_err());
        assert!(Sha256Digest::parse(&format!("md5:{hex}")).is_err());
    }
}
