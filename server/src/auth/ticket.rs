//! Copy tickets: what the vdc gives a node so that it may read one image from another node, and nothing
//! else. A ticket names the image, the node that holds it and the node that copies it, and expires.
//!
//! It is signed with a key derived from the cluster token, which every role of the cluster already
//! holds, so the source node checks it without asking the vdc, and the token itself never travels
//! between nodes: a ticket overheard opens one image's bytes for a few hours, not the cluster.

use app::model::NodeId;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use uuid::Uuid;

use crate::config::ClusterToken;

/// The request header that carries a ticket.
pub const TICKET_HEADER: &str = "x-quantix-ticket";

/// How long a copy may take, resumes included: a 12 GiB image at 1 MB/s fits.
pub const COPY_TICKET_LIFETIME_SECS: i64 = 6 * 3600;

/// What a ticket lets its holder do: read image `image_id` from node `source`, for node `target`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CopyTicket {
    pub image_id: Uuid,
    pub source: NodeId,
    pub target: NodeId,
    /// Unix seconds.
    pub expires_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TicketError {
    #[error(
        "The copy ticket is not one this cluster issued (it is malformed, altered, or signed with another cluster token)."
    )]
    Invalid,
    #[error("The copy ticket expired; ask the vdc for the copy again.")]
    Expired,
}

type HmacSha256 = Hmac<Sha256>;

/// The signing key: the cluster token's own HMAC of a fixed label, so a ticket's signature is made with
/// a key used for nothing else.
fn key(token: &ClusterToken) -> HmacSha256 {
    let mut derive = HmacSha256::new_from_slice(token.expose().as_bytes()).expect("HMAC takes a key of any length");
    derive.update(b"quantix-iso copy ticket v1");
    HmacSha256::new_from_slice(&derive.finalize().into_bytes()).expect("HMAC takes a key of any length")
}

impl CopyTicket {
    /// `<payload>.<signature>`, both base64url: fits a header.
    pub fn seal(&self, token: &ClusterToken) -> String {
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).expect("a ticket serialises"));
        let signature = key(token).chain_update(payload.as_bytes()).finalize().into_bytes();
        format!("{payload}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    /// The ticket `sealed` stands for, if this cluster signed it and it has not expired at `now`.
    pub fn open(sealed: &str, token: &ClusterToken, now: i64) -> Result<CopyTicket, TicketError> {
        let (payload, signature) = sealed.trim().split_once('.').ok_or(TicketError::Invalid)?;
        let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| TicketError::Invalid)?;
        // Compared in constant time by the MAC itself.
        key(token).chain_update(payload.as_bytes()).verify_slice(&signature).map_err(|_| TicketError::Invalid)?;
        let json = URL_SAFE_NO_PAD.decode(payload).map_err(|_| TicketError::Invalid)?;
        let ticket: CopyTicket = serde_json::from_slice(&json).map_err(|_| TicketError::Invalid)?;
        if ticket.expires_at <= now {
            return Err(TicketError::Expired);
        }
        Ok(ticket)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(t: &str) -> ClusterToken {
        ClusterToken::new(t).unwrap()
    }

    fn ticket() -> CopyTicket {
        CopyTicket {
            image_id: Uuid::from_u128(7),
            source: "hv1".parse().unwrap(),
            target: "hv2".parse().unwrap(),
            expires_at: 1_000,
        }
    }

    #[test]
    fn a_sealed_ticket_opens_with_the_same_token_until_it_expires() {
        let t = token("cluster-token-0123456789");
        let sealed = ticket().seal(&t);
        assert_eq!(CopyTicket::open(&sealed, &t, 999), Ok(ticket()));
        assert_eq!(CopyTicket::open(&sealed, &t, 1_000), Err(TicketError::Expired));
        assert!(!sealed.contains("cluster-token"), "{sealed}");
    }

    #[test]
    fn another_clusters_ticket_or_an_altered_one_is_refused() {
        let t = token("cluster-token-0123456789");
        let sealed = ticket().seal(&t);
        assert_eq!(CopyTicket::open(&sealed, &token("another-token-0123456789"), 0), Err(TicketError::Invalid));
        // The same signature over another image, a later expiry, or another target.
        let (_, signature) = sealed.split_once('.').unwrap();
        for forged in [
            CopyTicket { image_id: Uuid::from_u128(8), ..ticket() },
            CopyTicket { expires_at: 9_999_999_999, ..ticket() },
            CopyTicket { target: "hv3".parse().unwrap(), ..ticket() },
        ] {
            let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap());
            assert_eq!(CopyTicket::open(&format!("{payload}.{signature}"), &t, 0), Err(TicketError::Invalid));
        }
        for garbage in ["", ".", "abc", "abc.def", &format!("{sealed}x"), &sealed.replace('.', "")] {
            assert_eq!(CopyTicket::open(garbage, &t, 0), Err(TicketError::Invalid), "{garbage:?}");
        }
    }
}
