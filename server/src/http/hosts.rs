//! The names a role answers to. A browser request (one without an `Authorization` header) must name one
//! of them in `Host`, so a page on another site cannot reach the role through a rebinding DNS name; a
//! write from a browser must come from a page of the role itself (`Origin`), whatever its cookies say.

use std::{
    collections::BTreeSet,
    net::{IpAddr, SocketAddr},
    sync::Arc,
};

use http::{HeaderMap, Method, StatusCode, header};

use super::ApiError;

#[derive(Debug, Clone)]
pub struct HostPolicy {
    /// Lower-cased host names and addresses, without ports (IPv6 in brackets).
    names: Arc<BTreeSet<String>>,
}

fn normalise_ip(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    }
}

/// The host of a `Host` header or an origin's authority: `name`, `1.2.3.4` or `[::1]`, lower-cased, without
/// the port.
fn host_of(authority: &str) -> String {
    let a = authority.trim().to_ascii_lowercase();
    if a.starts_with('[') {
        return a.split_once(']').map(|(h, _)| format!("{h}]")).unwrap_or(a);
    }
    a.rsplit_once(':').map(|(h, _)| h.to_owned()).unwrap_or(a)
}

impl HostPolicy {
    /// The names of a role listening on `listen`: loopback names, the machine's host name, the listen
    /// address (every interface's address when it listens on all of them), the hosts of `public_urls`,
    /// and `extra` names.
    pub fn new(listen: SocketAddr, public_urls: &[String], extra: &[String]) -> HostPolicy {
        let mut names: BTreeSet<String> = ["localhost", "127.0.0.1", "[::1]"].into_iter().map(str::to_owned).collect();
        let host = rustix::system::uname().nodename().to_string_lossy().to_ascii_lowercase();
        if !host.is_empty() {
            names.insert(host.clone());
            if let Some((short, _)) = host.split_once('.') {
                names.insert(short.to_owned());
            }
        }
        if listen.ip().is_unspecified() {
            names.extend(interface_addresses().into_iter().map(normalise_ip));
        } else {
            names.insert(normalise_ip(listen.ip()));
        }
        for url in public_urls {
            let authority = url.split_once("://").map_or(url.as_str(), |(_, rest)| rest);
            names.insert(host_of(authority.split('/').next().unwrap_or(authority)));
        }
        names.extend(extra.iter().map(|e| host_of(e)));
        HostPolicy { names: Arc::new(names) }
    }

    /// Every name (for the start-up log).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(String::as_str)
    }

    fn allows(&self, authority: &str) -> bool {
        self.names.contains(&host_of(authority))
    }

    pub fn check(&self, headers: &HeaderMap, method: &Method) -> Result<(), ApiError> {
        if let Some(host) = headers.get(header::HOST) {
            let host = host.to_str().unwrap_or("");
            if !self.allows(host) {
                let shown: String = host.chars().take(100).flat_map(char::escape_debug).collect();
                return Err(ApiError::bad_request(
                    "invalid_host",
                    format!(
                        "This server does not answer to the name \"{shown}\". If that is its real name, start it with --public-url or --allowed-host naming it."
                    ),
                ));
            }
        }
        if crate::auth::routes::is_safe(method) {
            return Ok(());
        }
        let cross_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) == Some("cross-site");
        let origin = headers.get(header::ORIGIN).map(|o| o.to_str().unwrap_or("null"));
        let foreign = match origin {
            None => false,
            Some(o) => o.split_once("://").is_none_or(|(_, authority)| !self.allows(authority)),
        };
        if cross_site || foreign {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden_origin",
                format!(
                    "Changes are accepted only from this server's own pages, not from {}.",
                    origin.unwrap_or("another site")
                ),
            ));
        }
        Ok(())
    }
}

/// The addresses of the machine's network interfaces.
fn interface_addresses() -> Vec<IpAddr> {
    let mut out = Vec::new();
    let mut list: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `list` with a linked list we only read and then free with freeifaddrs.
    unsafe {
        if libc::getifaddrs(&mut list) != 0 {
            return out;
        }
        let mut cur = list;
        while !cur.is_null() {
            let addr = (*cur).ifa_addr;
            if !addr.is_null() {
                match (*addr).sa_family as i32 {
                    libc::AF_INET => {
                        let a = &*(addr as *const libc::sockaddr_in);
                        out.push(IpAddr::from(u32::from_be(a.sin_addr.s_addr).to_be_bytes()));
                    }
                    libc::AF_INET6 => {
                        let a = &*(addr as *const libc::sockaddr_in6);
                        out.push(IpAddr::from(a.sin6_addr.s6_addr));
                    }
                    _ => {}
                }
            }
            cur = (*cur).ifa_next;
        }
        libc::freeifaddrs(list);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn hosts_are_checked_by_name_and_origins_on_writes() {
        let p = HostPolicy::new(
            "127.0.0.1:3000".parse().unwrap(),
            &["https://vdc.example:8443/".into()],
            &["alias.lan".into()],
        );
        for ok in ["127.0.0.1:3000", "localhost:3000", "LOCALHOST", "[::1]:3000", "vdc.example:8443", "alias.lan"] {
            assert!(p.check(&headers(&[("host", ok)]), &Method::GET).is_ok(), "{ok}");
        }
        let e = p.check(&headers(&[("host", "attacker.example:3000")]), &Method::GET).unwrap_err();
        assert_eq!((e.status.as_u16(), e.code), (400, "invalid_host"));
        let write = |origin: &str| p.check(&headers(&[("host", "127.0.0.1:3000"), ("origin", origin)]), &Method::POST);
        assert!(write("http://127.0.0.1:3000").is_ok());
        assert!(write("https://vdc.example:8443").is_ok());
        for bad in ["http://evil.example", "null", "http://127.0.0.1.evil.example:3000"] {
            assert_eq!(write(bad).unwrap_err().code, "forbidden_origin", "{bad}");
        }
        // A read from another page is not refused by its origin (it cannot read the answer anyway).
        assert!(p.check(&headers(&[("host", "localhost"), ("origin", "http://evil.example")]), &Method::GET).is_ok());
        let cross = headers(&[("host", "localhost"), ("sec-fetch-site", "cross-site")]);
        assert_eq!(p.check(&cross, &Method::DELETE).unwrap_err().code, "forbidden_origin");
    }

    #[test]
    fn listening_everywhere_answers_to_every_interface() {
        let p = HostPolicy::new("0.0.0.0:3001".parse().unwrap(), &[], &[]);
        assert!(p.names().any(|n| n == "127.0.0.1"));
    }
}
