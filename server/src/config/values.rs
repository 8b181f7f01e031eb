//! Value types of settings, each parsed from a flag, an environment variable or a TOML value.

use std::{fmt, path::PathBuf, str::FromStr, time::Duration};

use app::model::PoolId;
use serde::{Deserialize, Deserializer};

/// The shared secret that authenticates node ↔ vdc calls. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct ClusterToken(String);

impl ClusterToken {
    pub fn new(token: impl Into<String>) -> Result<Self, String> {
        let token = token.into().trim().to_owned();
        if token.len() < 16 {
            return Err("the cluster token must be at least 16 characters long".into());
        }
        if !token.bytes().all(|b| b.is_ascii_graphic()) {
            return Err("the cluster token may only contain printable ASCII characters without spaces".into());
        }
        Ok(Self(token))
    }

    /// A fresh random token (for the all-in-one mode).
    pub fn generate() -> Self {
        use rand::Rng;
        let bytes: [u8; 24] = rand::rng().random();
        Self(hex::encode(bytes))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Compares in constant time, so response timing does not reveal how much of a guess was right.
    pub fn matches(&self, candidate: &str) -> bool {
        let (a, b) = (self.0.as_bytes(), candidate.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

impl fmt::Debug for ClusterToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClusterToken(<redacted>)")
    }
}

impl FromStr for ClusterToken {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::new(s)
    }
}

impl<'de> Deserialize<'de> for ClusterToken {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::new(String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// A storage pool of a node: `ID[:NAME]=PATH` on the command line, a table in the config file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolSpec {
    pub id: PoolId,
    #[serde(default)]
    pub name: Option<String>,
    pub path: PathBuf,
    /// Most bytes the pool's `iso/` directory may hold (config file only, e.g. `"500GiB"`).
    #[serde(default, deserialize_with = "de_size")]
    pub quota: Option<u64>,
}

impl FromStr for PoolSpec {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (head, path) = s.split_once('=').ok_or_else(|| format!("pool {s:?} is not ID[:NAME]=PATH"))?;
        let (id, name) = match head.split_once(':') {
            Some((id, name)) => (id, Some(name.to_owned())),
            None => (head, None),
        };
        if path.is_empty() {
            return Err(format!("pool {s:?} has an empty path"));
        }
        let id = PoolId::parse(id).map_err(|e| e.to_string())?;
        Ok(PoolSpec { id, name, path: PathBuf::from(path), quota: None })
    }
}

fn de_size<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Bytes(u64),
        Text(String),
    }
    match Option::<Raw>::deserialize(d)? {
        None => Ok(None),
        Some(Raw::Bytes(n)) => Ok(Some(n)),
        Some(Raw::Text(t)) => parse_size(&t).map(Some).map_err(serde::de::Error::custom),
    }
}

/// The shortest period a setting may name: a loop with a shorter one spins (`--sync-interval 0` once sent
/// thousands of inventories a second).
pub const MIN_PERIOD: Duration = Duration::from_secs(1);
/// The longest duration any setting may name (about a year): beyond it a typo, not an intent.
const MAX_DURATION: Duration = Duration::from_secs(366 * 24 * 3600);

/// `300`, `300s`, `5m`, `2h`, `1500ms`: a period of at least [`MIN_PERIOD`].
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    parse_duration_at_least(s, MIN_PERIOD)
}

/// Like [`parse_duration`], for the few settings measured in milliseconds (the watcher's settling time):
/// at least 10 ms.
pub fn parse_short_duration(s: &str) -> Result<Duration, String> {
    parse_duration_at_least(s, Duration::from_millis(10))
}

fn parse_duration_at_least(s: &str, min: Duration) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num.parse().map_err(|_| format!("{s:?} is not a duration such as 30s, 5m or 1h"))?;
    let (per_unit_ms, unit) = match unit.trim() {
        "" | "s" => (1_000, "s"),
        "ms" => (1, "ms"),
        "m" | "min" => (60_000, "m"),
        "h" => (3_600_000, "h"),
        other => return Err(format!("unknown duration unit {other:?} in {s:?} (use ms, s, m or h)")),
    };
    let d =
        n.checked_mul(per_unit_ms).map(Duration::from_millis).filter(|d| *d <= MAX_DURATION).ok_or_else(|| {
            format!("{s:?} is too long a duration (at most {} days)", MAX_DURATION.as_secs() / 86_400)
        })?;
    if d < min {
        return Err(format!("{n}{unit} is too short: the shortest allowed is {min:?}"));
    }
    Ok(d)
}

/// `1048576`, `512MiB`, `10GiB`, `1TB`.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num.parse().map_err(|_| format!("{s:?} is not a size such as 512MiB or 10GiB"))?;
    let mult: u64 = match unit.trim() {
        "" | "B" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        "TiB" => 1 << 40,
        "KB" | "kB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        "TB" => 1_000_000_000_000,
        other => return Err(format!("unknown size unit {other:?} in {s:?}")),
    };
    n.checked_mul(mult).ok_or_else(|| format!("{s:?} is too large"))
}

/// Deserialises a duration written as in [`parse_duration`] (or plain seconds), with its minimum.
pub fn de_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    de_duration_with(d, parse_duration)
}

/// Deserialises a duration written as in [`parse_short_duration`].
pub fn de_short_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    de_duration_with(d, parse_short_duration)
}

fn de_duration_with<'de, D: Deserializer<'de>>(
    d: D,
    parse: fn(&str) -> Result<Duration, String>,
) -> Result<Option<Duration>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Secs(u64),
        Text(String),
    }
    let text = match Option::<Raw>::deserialize(d)? {
        None => return Ok(None),
        Some(Raw::Secs(n)) => n.to_string(),
        Some(Raw::Text(t)) => t,
    };
    parse(&text).map(Some).map_err(serde::de::Error::custom)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_specs() {
        let p: PoolSpec = "fast:Fast NVMe=/data/nvme".parse().unwrap();
        assert_eq!((p.id.as_str(), p.name.as_deref()), ("fast", Some("Fast NVMe")));
        assert!("no good:x=/data".parse::<PoolSpec>().unwrap_err().contains("pool id"));
        assert_eq!(p.path, PathBuf::from("/data/nvme"));
        let p: PoolSpec = "local=./data".parse().unwrap();
        assert_eq!(p.name, None);
        assert!("nopath".parse::<PoolSpec>().is_err());
        assert!("x=".parse::<PoolSpec>().is_err());
    }

    #[test]
    fn durations_and_sizes() {
        assert_eq!(parse_duration("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("1500ms").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_short_duration("250ms").unwrap(), Duration::from_millis(250));
        assert!(parse_duration("5 parsecs").is_err());
        assert_eq!(parse_size("64MiB").unwrap(), 64 << 20);
        assert_eq!(parse_size("2GB").unwrap(), 2_000_000_000);
        assert!(parse_size("lots").is_err());
    }

    #[test]
    fn durations_too_short_or_too_long_are_refused() {
        for zero in ["0", "0s", "999ms", "0m"] {
            let e = parse_duration(zero).unwrap_err();
            assert!(e.contains("too short"), "{zero}: {e}");
        }
        assert!(parse_short_duration("5ms").unwrap_err().contains("too short"));
        // n * 3600 once overflowed (a panic in debug builds, a wrapped value in release).
        for huge in ["18446744073709551615h", "5124095576030431h", "400000000s", "9999999999999999999"] {
            let e = parse_duration(huge).unwrap_err();
            assert!(e.contains("too long") || e.contains("not a duration"), "{huge}: {e}");
        }
        let e = toml::from_str::<Periods>("every = 0").unwrap_err().to_string();
        assert!(e.contains("too short"), "{e}");
        let e = toml::from_str::<Periods>("every = \"0s\"").unwrap_err().to_string();
        assert!(e.contains("too short"), "{e}");
    }

    #[derive(Debug, serde::Deserialize)]
    struct Periods {
        #[allow(dead_code)]
        #[serde(default, deserialize_with = "de_duration")]
        every: Option<Duration>,
    }

    #[test]
    fn token_is_redacted_and_compared_whole() {
        let t = ClusterToken::new("0123456789abcdef-secret").unwrap();
        assert_eq!(format!("{t:?}"), "ClusterToken(<redacted>)");
        assert!(t.matches("0123456789abcdef-secret"));
        assert!(!t.matches("0123456789abcdef-secreT"));
        assert!(!t.matches("0123456789abcdef"));
        assert!(ClusterToken::new("short").is_err());
        assert_eq!(ClusterToken::generate().expose().len(), 48);
    }
}
