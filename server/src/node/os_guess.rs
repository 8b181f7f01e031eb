//! Guesses an image's operating system from its filename (content-based detection will read the ISO's
//! volume descriptor later; this is the cheap first answer).

use app::model::{FolderPath, os_family};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OsGuess {
    pub family: Option<&'static str>,
    pub distribution: Option<String>,
    pub version: Option<String>,
}

impl OsGuess {
    /// The default folder for an image of this family: `/windows`, `/linux` or `/other`.
    pub fn default_folder(&self) -> FolderPath {
        let path = match self.family {
            Some(os_family::WINDOWS) => "/windows",
            Some(os_family::LINUX) => "/linux",
            _ => "/other",
        };
        FolderPath::parse(path).expect("default folders are valid")
    }
}

/// Token prefix → (family, distribution). Longer, more specific keys first.
const KNOWN: &[(&str, &str, &str)] = &[
    ("virtio", os_family::WINDOWS, "virtio-win"),
    ("kubuntu", os_family::LINUX, "kubuntu"),
    ("xubuntu", os_family::LINUX, "xubuntu"),
    ("lubuntu", os_family::LINUX, "lubuntu"),
    ("ubuntu", os_family::LINUX, "ubuntu"),
    ("debian", os_family::LINUX, "debian"),
    ("fedora", os_family::LINUX, "fedora"),
    ("centos", os_family::LINUX, "centos"),
    ("rhel", os_family::LINUX, "rhel"),
    ("almalinux", os_family::LINUX, "almalinux"),
    ("rocky", os_family::LINUX, "rocky"),
    ("opensuse", os_family::LINUX, "opensuse"),
    ("sles", os_family::LINUX, "sles"),
    ("archlinux", os_family::LINUX, "arch"),
    ("alpine", os_family::LINUX, "alpine"),
    ("kali", os_family::LINUX, "kali"),
    ("linuxmint", os_family::LINUX, "mint"),
    ("manjaro", os_family::LINUX, "manjaro"),
    ("gentoo", os_family::LINUX, "gentoo"),
    ("nixos", os_family::LINUX, "nixos"),
    ("oraclelinux", os_family::LINUX, "oracle"),
    ("proxmox", os_family::LINUX, "proxmox"),
    ("talos", os_family::LINUX, "talos"),
    ("flatcar", os_family::LINUX, "flatcar"),
    ("pop", os_family::LINUX, "pop-os"),
    ("elementaryos", os_family::LINUX, "elementary"),
    ("zorin", os_family::LINUX, "zorin"),
    ("slackware", os_family::LINUX, "slackware"),
    ("void", os_family::LINUX, "void"),
    ("freebsd", os_family::BSD, "freebsd"),
    ("openbsd", os_family::BSD, "openbsd"),
    ("netbsd", os_family::BSD, "netbsd"),
    ("pfsense", os_family::BSD, "pfsense"),
    ("opnsense", os_family::BSD, "opnsense"),
    ("truenas", os_family::BSD, "truenas"),
];

/// Tokens that name a CPU architecture, never a version.
const ARCH: &[&str] = &["x86", "64", "amd64", "x64", "arm64", "aarch64", "i386", "i686", "32", "ppc64le", "s390x"];

fn is_version(t: &str) -> bool {
    !ARCH.contains(&t) && t.split('.').all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

pub fn guess(filename: &str) -> OsGuess {
    let lower = filename.to_lowercase();
    let stem = lower.rsplit_once('.').map(|(s, _)| s).unwrap_or(&lower);
    let tokens: Vec<&str> =
        stem.split(|c: char| !(c.is_alphanumeric() || c == '.')).filter(|t| !t.is_empty()).collect();
    windows(&tokens).or_else(|| known(&tokens)).unwrap_or_default()
}

fn known(tokens: &[&str]) -> Option<OsGuess> {
    tokens.iter().enumerate().find_map(|(i, t)| {
        let &(_, family, distro) = KNOWN.iter().find(|(key, ..)| t.starts_with(key))?;
        let version = tokens[i + 1..].iter().find(|t| is_version(t)).map(|v| v.to_string());
        Some(OsGuess { family: Some(family), distribution: Some(distro.to_owned()), version })
    })
}

fn windows(tokens: &[&str]) -> Option<OsGuess> {
    let pos = tokens.iter().position(|t| {
        *t == "win" || t.starts_with("windows") || (t.starts_with("win") && t[3..].bytes().all(|b| b.is_ascii_digit()))
    });
    let server = tokens.contains(&"server");
    if pos.is_none() && !(server && tokens.contains(&"eval")) {
        return None;
    }
    if tokens.iter().any(|t| t.starts_with("virtio")) {
        return None;
    }
    let year = tokens.iter().find(|t| matches!(**t, "2012" | "2016" | "2019" | "2022" | "2025")).map(|y| y.to_string());
    let version = if server {
        year
    } else {
        pos.and_then(|i| {
            let glued = tokens[i].trim_start_matches("windows").trim_start_matches("win");
            if !glued.is_empty() && is_version(glued) {
                Some(glued.to_owned())
            } else {
                tokens.get(i + 1).filter(|t| is_version(t)).map(|t| t.to_string())
            }
        })
    };
    Some(OsGuess {
        family: Some(os_family::WINDOWS),
        distribution: Some(if server { "windows-server" } else { "windows" }.to_owned()),
        version,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(name: &str) -> (Option<&'static str>, Option<String>, Option<String>) {
        let o = guess(name);
        (o.family, o.distribution, o.version)
    }

    fn s(v: &str) -> Option<String> {
        Some(v.to_owned())
    }

    #[test]
    fn common_installers() {
        assert_eq!(g("ubuntu-24.04-live-server-amd64.iso"), (Some("linux"), s("ubuntu"), s("24.04")));
        assert_eq!(g("debian-12.5.0-amd64-netinst.iso"), (Some("linux"), s("debian"), s("12.5.0")));
        assert_eq!(g("Rocky-9.3-x86_64-minimal.iso"), (Some("linux"), s("rocky"), s("9.3")));
        assert_eq!(g("CentOS-Stream-9-latest-x86_64-dvd1.iso"), (Some("linux"), s("centos"), s("9")));
        assert_eq!(g("archlinux-2024.01.01-x86_64.iso"), (Some("linux"), s("arch"), s("2024.01.01")));
        assert_eq!(g("alpine-virt-3.19.1-x86_64.iso"), (Some("linux"), s("alpine"), s("3.19.1")));
        assert_eq!(g("Win11_23H2_English_x64.iso"), (Some("windows"), s("windows"), s("11")));
        assert_eq!(g("en-us_windows_10_consumer_editions.iso"), (Some("windows"), s("windows"), s("10")));
        assert_eq!(
            g("17763.737.190906-2324.rs5_release_svc_refresh_SERVER_EVAL_x64FRE_en-us_1.iso"),
            (Some("windows"), s("windows-server"), None)
        );
        assert_eq!(g("Windows_Server_2022_EVAL.iso"), (Some("windows"), s("windows-server"), s("2022")));
        assert_eq!(g("virtio-win-0.1.240.iso"), (Some("windows"), s("virtio-win"), s("0.1.240")));
        assert_eq!(g("FreeBSD-14.0-RELEASE-amd64-disc1.iso"), (Some("bsd"), s("freebsd"), s("14.0")));
        assert_eq!(g("random-tools.iso"), (None, None, None));
    }

    #[test]
    fn default_folders() {
        assert_eq!(guess("ubuntu.iso").default_folder().as_str(), "/linux");
        assert_eq!(guess("win10.iso").default_folder().as_str(), "/windows");
        assert_eq!(guess("FreeBSD-14.iso").default_folder().as_str(), "/other");
        assert_eq!(guess("x.iso").default_folder().as_str(), "/other");
    }
}
