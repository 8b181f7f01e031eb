//! Identifiers of nodes and storage pools, parsed once (like [`super::FolderPath`]): a value of these types
//! is 1 to 64 ASCII letters, digits, `.`, `_` or `-`, so it is always safe to show, store, and put in a
//! path or a URL. Both roles and the browser share the one parser.

use std::{borrow::Borrow, fmt};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Longest identifier, in bytes.
pub const MAX_ID_LEN: usize = 64;

/// Why an identifier was refused; the text names the kind of id and shows what was given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("The {kind} id \"{shown}\" is not valid: use 1 to {MAX_ID_LEN} letters, digits, '.', '_' or '-'.")]
pub struct IdError {
    kind: &'static str,
    shown: String,
}

fn check(kind: &'static str, s: &str) -> Result<(), IdError> {
    let valid = (1..=MAX_ID_LEN).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if valid {
        return Ok(());
    }
    // Shown in messages: control characters escaped, a long value cut.
    let shown: String = s.chars().take(80).flat_map(char::escape_debug).collect();
    Err(IdError { kind, shown })
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            pub fn parse(s: &str) -> Result<Self, IdError> {
                check($kind, s).map(|()| Self(s.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }

        /// Read-only access to the text, so an id goes wherever a `&str` does.
        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl std::str::FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                Self::parse(s)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(d)?;
                check($kind, &raw).map(|()| Self(raw)).map_err(serde::de::Error::custom)
            }
        }
    };
}

id_type!(
    /// A node's stable identifier in the cluster (configured, or generated once and kept).
    NodeId,
    "node"
);

id_type!(
    /// A storage pool's identifier, unique on its node.
    PoolId,
    "pool"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_plain_ascii_names() {
        for ok in ["local", "hv-07", "node.example_1", "A", &"x".repeat(64)] {
            assert_eq!(NodeId::parse(ok).unwrap().as_str(), ok);
            assert_eq!(PoolId::parse(ok).unwrap().as_str(), ok);
        }
        for bad in ["", "a b", "a/b", "../x", "naïve", "tab\t", &"x".repeat(65), "a\u{202e}b"] {
            assert!(NodeId::parse(bad).is_err(), "{bad:?}");
            assert!(PoolId::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn messages_name_the_kind_and_escape_what_was_given() {
        let e = NodeId::parse("bad\nid").unwrap_err().to_string();
        assert_eq!(e, "The node id \"bad\\nid\" is not valid: use 1 to 64 letters, digits, '.', '_' or '-'.");
        assert!(PoolId::parse("").unwrap_err().to_string().starts_with("The pool id \"\""));
    }

    #[test]
    fn serde_is_a_plain_string_and_validates() {
        let id: PoolId = serde_json::from_str("\"fast\"").unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"fast\"");
        let err = serde_json::from_str::<NodeId>("\"no way\"").unwrap_err().to_string();
        assert!(err.contains("node id"), "{err}");
    }
}
