//! Where a download may connect (SSRF): only http and https, no credentials in the URL, and no address
//! on loopback, link-local, private or other non-public ranges unless the node's config allows it
//! (`--download-allow CIDR`).
//!
//! The check is made on what is actually connected to: every name is resolved by [`GuardedResolver`],
//! which refuses the whole answer if any address is not allowed and hands the client only the checked
//! addresses, so a name that resolves to a public address for the check and a private one for the
//! connection (DNS rebinding) cannot slip through. A host that is an address literal is never resolved,
//! so [`TargetPolicy::check_url`] checks it; both run again at every redirect.

use std::{
    fmt,
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    str::FromStr,
    sync::{Arc, OnceLock},
};

use reqwest::Url;

/// An address range, `addr/prefix` (a bare address is the range of one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(try_from = "String")]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    const fn v4(a: u8, b: u8, c: u8, d: u8, prefix: u8) -> Cidr {
        Cidr { addr: IpAddr::V4(Ipv4Addr::new(a, b, c, d)), prefix }
    }

    const fn v6(segments: [u16; 8], prefix: u8) -> Cidr {
        let [a, b, c, d, e, f, g, h] = segments;
        Cidr { addr: IpAddr::V6(Ipv6Addr::new(a, b, c, d, e, f, g, h)), prefix }
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                prefix_eq(net.to_bits() as u128, ip.to_bits() as u128, 32, self.prefix)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => prefix_eq(net.to_bits(), ip.to_bits(), 128, self.prefix),
            _ => false,
        }
    }
}

fn prefix_eq(a: u128, b: u128, width: u8, prefix: u8) -> bool {
    let shift = width - prefix;
    shift >= width || (a >> shift) == (b >> shift)
}

/// An IPv4 address written as IPv6 (`::ffff:127.0.0.1`) is the IPv4 address it carries.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Cidr, String> {
        let bad = || format!("{s:?} is not an address range: write it as 10.0.0.0/8, 192.168.1.20 or fd00::/8");
        let (addr, prefix) = s.trim().split_once('/').map_or((s.trim(), None), |(a, p)| (a, Some(p)));
        let addr = canonical(addr.parse::<IpAddr>().map_err(|_| bad())?);
        let width = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= width).ok_or_else(bad)?,
            None => width,
        };
        Ok(Cidr { addr, prefix })
    }
}

impl TryFrom<String> for Cidr {
    type Error = String;
    fn try_from(s: String) -> Result<Cidr, String> {
        s.parse()
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// Ranges a download may not reach unless allowed, each with what it is, for the refusal's message.
fn refused_ranges() -> &'static [(Cidr, &'static str)] {
    static RANGES: OnceLock<Vec<(Cidr, &'static str)>> = OnceLock::new();
    RANGES.get_or_init(|| {
        vec![
            (Cidr::v4(0, 0, 0, 0, 8), "a \"this network\" address"),
            (Cidr::v4(10, 0, 0, 0, 8), "a private address"),
            (Cidr::v4(100, 64, 0, 0, 10), "a carrier-grade NAT address"),
            (Cidr::v4(127, 0, 0, 0, 8), "a loopback address"),
            (Cidr::v4(169, 254, 0, 0, 16), "a link-local address"),
            (Cidr::v4(172, 16, 0, 0, 12), "a private address"),
            (Cidr::v4(192, 0, 0, 0, 24), "an IETF protocol address"),
            (Cidr::v4(192, 168, 0, 0, 16), "a private address"),
            (Cidr::v4(198, 18, 0, 0, 15), "a benchmarking address"),
            (Cidr::v4(224, 0, 0, 0, 4), "a multicast address"),
            (Cidr::v4(240, 0, 0, 0, 4), "a reserved address"),
            (Cidr::v6([0; 8], 128), "the unspecified address"),
            (Cidr::v6([0, 0, 0, 0, 0, 0, 0, 1], 128), "a loopback address"),
            (Cidr::v6([0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96), "a NAT64 address"),
            (Cidr::v6([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7), "a private (unique local) address"),
            (Cidr::v6([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10), "a link-local address"),
            (Cidr::v6([0xff00, 0, 0, 0, 0, 0, 0, 0], 8), "a multicast address"),
        ]
    })
}

/// Why a download may not go where it was sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("Only http and https URLs can be downloaded, not {0}:.")]
    Scheme(String),
    #[error(
        "The URL carries a user name or password; it would be stored and shown in the task list. Use a URL without credentials."
    )]
    Credentials,
    #[error("The URL names no host.")]
    NoHost,
    #[error(
        "{host} is {what} ({ip}); downloads may not reach it. An administrator can allow the range with --download-allow."
    )]
    Address { host: String, ip: IpAddr, what: &'static str },
}

/// Which targets this node's downloads may reach.
#[derive(Debug, Clone, Default)]
pub struct TargetPolicy {
    /// Ranges allowed although they are refused by default.
    allowed: Vec<Cidr>,
}

impl TargetPolicy {
    pub fn new(allowed: Vec<Cidr>) -> TargetPolicy {
        TargetPolicy { allowed }
    }

    /// Every address: for copies between the cluster's own nodes, where the URL is the source node's
    /// API as the vdc knows it (nodes sit on private networks), never one a user typed.
    pub fn cluster() -> TargetPolicy {
        TargetPolicy { allowed: vec![Cidr::v4(0, 0, 0, 0, 0), Cidr::v6([0; 8], 0)] }
    }

    /// Scheme, credentials, and the host if it is an address literal (a name is checked as it resolves).
    pub fn check_url(&self, url: &Url) -> Result<(), Refusal> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Refusal::Scheme(url.scheme().to_owned()));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Refusal::Credentials);
        }
        let host = url.host_str().filter(|h| !h.is_empty()).ok_or(Refusal::NoHost)?;
        // The parser has normalised an address literal (`2130706433` is `127.0.0.1`); IPv6 is bracketed.
        match host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
            Ok(ip) => self.check_addr(host, ip),
            Err(_) => Ok(()),
        }
    }

    pub fn check_addr(&self, host: &str, ip: IpAddr) -> Result<(), Refusal> {
        if self.allowed.iter().any(|c| c.contains(ip)) {
            return Ok(());
        }
        match refused_ranges().iter().find(|(range, _)| range.contains(ip)) {
            Some((_, what)) => Err(Refusal::Address { host: host.to_owned(), ip: canonical(ip), what }),
            None => Ok(()),
        }
    }

    /// Every address of `host`, each checked; refused whole if any is not allowed.
    pub async fn resolve(&self, host: &str) -> Result<Vec<SocketAddr>, ResolveError> {
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, 0))
            .await
            .map_err(|e| ResolveError::Lookup { host: host.to_owned(), detail: e.to_string() })?
            .collect();
        if addrs.is_empty() {
            return Err(ResolveError::Lookup { host: host.to_owned(), detail: "no address".into() });
        }
        for addr in &addrs {
            self.check_addr(host, addr.ip())?;
        }
        Ok(addrs)
    }
}

/// Why a host name gave no address a download may connect to.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ResolveError {
    #[error("The host name {host} could not be resolved ({detail}). Check the URL, and the node's DNS.")]
    Lookup { host: String, detail: String },
    #[error(transparent)]
    Refused(#[from] Refusal),
}

/// The download client's DNS: every address checked before the client may connect to it.
pub struct GuardedResolver(pub Arc<TargetPolicy>);

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.0.clone();
        Box::pin(async move {
            let addrs = policy.resolve(name.as_str()).await?;
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn ranges_parse_and_contain_what_they_should() {
        let cases = [
            ("10.0.0.0/8", "10.255.1.2", true),
            ("10.0.0.0/8", "11.0.0.1", false),
            ("127.0.0.1", "127.0.0.1", true),
            ("127.0.0.1", "127.0.0.2", false),
            ("0.0.0.0/0", "8.8.8.8", true),
            ("fd00::/8", "fd12::1", true),
            ("fd00::/8", "fe80::1", false),
            ("127.0.0.0/8", "::ffff:127.0.0.1", true),
            ("::/0", "10.0.0.1", false),
        ];
        for (range, ip, inside) in cases {
            let c: Cidr = range.parse().unwrap();
            assert_eq!(c.contains(ip.parse().unwrap()), inside, "{range} ∋ {ip}");
        }
        for bad in ["10.0.0.0/33", "fd00::/129", "example.com", "10.0.0.0/", "/8", ""] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn non_public_addresses_are_refused_unless_allowed() {
        let strict = TargetPolicy::default();
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.31.0.1",
            "192.168.0.1",
            "169.254.169.254",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:10.0.0.1",
            "0.0.0.0",
            "100.64.0.1",
        ] {
            assert!(strict.check_addr("h", ip.parse().unwrap()).is_err(), "{ip} allowed");
        }
        for ip in ["8.8.8.8", "2001:4860:4860::8888", "172.32.0.1"] {
            assert!(strict.check_addr("h", ip.parse().unwrap()).is_ok(), "{ip} refused");
        }
        let loopback = TargetPolicy::new(vec!["127.0.0.0/8".parse().unwrap()]);
        assert!(loopback.check_addr("h", "127.0.0.1".parse().unwrap()).is_ok());
        assert!(loopback.check_addr("h", "10.0.0.1".parse().unwrap()).is_err());
    }

    #[test]
    fn urls_are_refused_for_their_scheme_credentials_or_literal_host() {
        let p = TargetPolicy::default();
        assert!(p.check_url(&url("https://mirror.example/debian.iso")).is_ok());
        assert_eq!(p.check_url(&url("file:///etc/passwd")), Err(Refusal::Scheme("file".into())));
        assert_eq!(p.check_url(&url("ftp://mirror.example/x.iso")), Err(Refusal::Scheme("ftp".into())));
        assert_eq!(p.check_url(&url("https://ann:secret@mirror.example/x.iso")), Err(Refusal::Credentials));
        assert_eq!(p.check_url(&url("https://ann@mirror.example/x.iso")), Err(Refusal::Credentials));
        assert!(matches!(p.check_url(&url("http://127.0.0.1:8080/x.iso")), Err(Refusal::Address { .. })));
        assert!(matches!(p.check_url(&url("http://[::1]/x.iso")), Err(Refusal::Address { .. })));
        assert!(matches!(p.check_url(&url("http://[::ffff:7f00:1]/x.iso")), Err(Refusal::Address { .. })));
        // Spelled oddly, still the same address: the URL parser normalises it.
        assert!(matches!(p.check_url(&url("http://2130706433/x.iso")), Err(Refusal::Address { .. })));
    }
}
