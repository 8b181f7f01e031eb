//! Our table of what a disc's identifiers say about its OS: one place, data first, each rule tested
//! against an id a real disc carries (see the tests at the end, and where each id came from).
//!
//! Written for this project from the discs' own ids; osinfo-db's published test data (real discs'
//! `isoinfo` output) was read to learn which ids exist, none of its rules or files are used.

mod windows;
mod words;

use super::family::{BSD, LINUX, OTHER, WINDOWS};
use super::{IsoProbe, OsInfo};
use words::{Version, Words};

/// What a rule needs to see on the disc.
#[derive(Debug, Clone, Copy)]
enum When {
    /// A volume name (PVD, Joliet or UDF) that starts with these words. Case does not matter and any of
    /// ` -_.` separates words, so `CentOS Stream` matches `CentOS-Stream-9-…` and `CentOS_Stream_8_…`.
    Volume(&'static str),
    /// The PVD's system id, exactly (case-insensitive); the version is read from the volume id.
    System(&'static str),
    /// A file in the root directory, for products whose volume id is a tool's default.
    RootFile(&'static str),
    /// `PRODUCT='…'` in `/.cd-info` (Proxmox installers).
    CdInfo(&'static str),
    /// Microsoft's label grammar (see `windows.rs`); there is no fixed prefix to match.
    WindowsLabel,
}

#[derive(Debug, Clone, Copy)]
enum Read {
    Words(Words),
    /// Nothing more than the product is on the disc; the edition is what the medium always is.
    Fixed {
        edition: Option<&'static str>,
    },
    CdInfo,
    Windows,
}

#[derive(Debug, Clone, Copy)]
struct Rule {
    when: When,
    family: &'static str,
    distribution: &'static str,
    read: Read,
}

/// What a rule read from the disc.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Details {
    version: Option<String>,
    arch: Option<String>,
    edition: Option<String>,
}

const fn rule(when: When, family: &'static str, distribution: &'static str, read: Read) -> Rule {
    Rule { when, family, distribution, read }
}

/// The rules, most specific first: the first that matches decides.
const RULES: &[Rule] = &[
    rule(When::WindowsLabel, WINDOWS, "windows", Read::Windows),
    rule(
        When::Volume("virtio-win"),
        WINDOWS,
        "virtio-win",
        Read::Words(Words { default_edition: Some("drivers"), ..Words::PLAIN }),
    ),
    rule(
        When::Volume("Ubuntu"),
        LINUX,
        "ubuntu",
        Read::Words(Words {
            editions: &[("server", "server")],
            default_edition: Some("desktop"),
            // Ubuntu cuts every architecture to five letters.
            arch_aliases: &[("ppc64", "ppc64le"), ("riscv", "riscv64")],
            ..Words::PLAIN
        }),
    ),
    rule(
        When::Volume("Edubuntu"),
        LINUX,
        "edubuntu",
        Read::Words(Words { default_edition: Some("desktop"), ..Words::PLAIN }),
    ),
    rule(
        When::Volume("Debian"),
        LINUX,
        "debian",
        Read::Words(Words {
            named_versions: &[("testing", "testing"), ("sid", "sid")],
            // The last word is `n` for netinst, else the disc number of the full (DVD/BD) set.
            editions: &[("n", "netinst")],
            default_edition: Some("dvd"),
            ..Words::PLAIN
        }),
    ),
    rule(
        When::Volume("d-live"),
        LINUX,
        "debian",
        Read::Words(Words { named_versions: &[("testing", "testing")], default_edition: Some("live"), ..Words::PLAIN }),
    ),
    rule(
        When::Volume("Fedora"),
        LINUX,
        "fedora",
        Read::Words(Words {
            version: Version::Major,
            named_versions: &[("rawh", "rawhide"), ("rawhide", "rawhide")],
            editions: &[("ws", "workstation"), ("s", "server"), ("e", "everything"), ("sb", "silverblue")],
            ..Words::PLAIN
        }),
    ),
    rule(
        When::Volume("RHEL"),
        LINUX,
        "rhel",
        Read::Words(Words {
            version: Version::MajorMinor,
            editions: &[
                ("baseos", "installer"),
                ("server", "server"),
                ("workstation", "workstation"),
                ("client", "client"),
                ("computenode", "compute-node"),
            ],
            ..Words::PLAIN
        }),
    ),
    rule(
        When::Volume("Rocky"),
        LINUX,
        "rocky",
        Read::Words(Words {
            version: Version::MajorMinor,
            editions: &[
                ("dvd", "installer"),
                ("workstation", "workstation"),
                ("kde", "live"),
                ("xfce", "live"),
                ("cinnamon", "live"),
                ("mate", "live"),
            ],
            ..Words::PLAIN
        }),
    ),
    rule(
        When::Volume("AlmaLinux Kitten"),
        LINUX,
        "almalinux-kitten",
        Read::Words(Words { version: Version::Major, ..Words::PLAIN }),
    ),
    rule(
        When::Volume("AlmaLinux"),
        LINUX,
        "almalinux",
        Read::Words(Words {
            version: Version::MajorMinor,
            editions: &[("dvd", "installer"), ("live", "live")],
            ..Words::PLAIN
        }),
    ),
    rule(
        When::Volume("CentOS Stream"),
        LINUX,
        "centos-stream",
        Read::Words(Words {
            version: Version::Major,
            editions: &[("dvd", "installer"), ("baseos", "installer")],
            ..Words::PLAIN
        }),
    ),
    rule(
        When::Volume("CentOS"),
        LINUX,
        "centos",
        Read::Words(Words {
            editions: &[
                ("dvd", "installer"),
                ("baseos", "installer"),
                ("live*", "live"),
                ("gnome", "live"),
                ("kde", "live"),
            ],
            ..Words::PLAIN
        }),
    ),
    rule(When::Volume("openSUSE Leap"), LINUX, "opensuse-leap", Read::Words(SUSE_LEAP)),
    rule(When::Volume("Install Leap"), LINUX, "opensuse-leap", Read::Words(SUSE_LEAP)),
    rule(
        When::Volume("openSUSE Tumbleweed"),
        LINUX,
        "opensuse-tumbleweed",
        Read::Words(Words { version: Version::None, ..SUSE_LEAP }),
    ),
    rule(When::Volume("SLE"), LINUX, "sles", Read::Words(SLE)),
    rule(When::Volume("SLES"), LINUX, "sles", Read::Words(SLE)),
    rule(When::Volume("Install SUSE SLE"), LINUX, "sles", Read::Words(SLE)),
    rule(
        When::Volume("ARCH"),
        LINUX,
        "arch",
        Read::Words(Words { version: Version::YearMonth, default_edition: Some("live"), ..Words::PLAIN }),
    ),
    rule(
        When::Volume("alpine"),
        LINUX,
        "alpine",
        Read::Words(Words {
            editions: &[("std", "standard"), ("ext", "extended"), ("virt", "virt"), ("xen", "xen")],
            ..Words::PLAIN
        }),
    ),
    rule(
        When::System("FreeBSD"),
        BSD,
        "freebsd",
        Read::Words(Words {
            version: Version::MajorMinor,
            editions: &[("cd", "disc1"), ("dvd", "dvd"), ("bo", "bootonly")],
            ..Words::PLAIN
        }),
    ),
    rule(
        When::Volume("ESXI"),
        OTHER,
        "esxi",
        Read::Words(Words { version: Version::SecondField, default_edition: Some("installer"), ..Words::PLAIN }),
    ),
    rule(When::CdInfo("pve"), LINUX, "proxmox", Read::CdInfo),
    rule(When::CdInfo("pbs"), LINUX, "proxmox-backup-server", Read::CdInfo),
    rule(When::CdInfo("pmg"), LINUX, "proxmox-mail-gateway", Read::CdInfo),
    rule(When::Volume("PVE"), LINUX, "proxmox", Read::Fixed { edition: Some("installer") }),
    rule(When::RootFile("TrueNAS-SCALE.update"), LINUX, "truenas", Read::Fixed { edition: Some("scale") }),
    rule(When::Volume("TrueNAS"), BSD, "truenas", Read::Fixed { edition: Some("core") }),
    rule(When::Volume("pfSense"), BSD, "pfsense", Read::Fixed { edition: Some("installer") }),
    rule(When::Volume("OPNsense"), BSD, "opnsense", Read::Fixed { edition: Some("installer") }),
];

const SUSE_LEAP: Words = Words {
    version: Version::MajorMinor,
    editions: &[("dvd", "dvd"), ("offline", "dvd"), ("net", "netinst"), ("live", "live"), ("rescue", "rescue")],
    prefer_application_id: true,
    ..Words::PLAIN
};

const SLE: Words = Words {
    version: Version::ServicePack,
    editions: &[("full", "dvd"), ("online", "netinst"), ("dvd", "dvd")],
    default_edition: Some("installer"),
    prefer_application_id: true,
    ..Words::PLAIN
};

/// What the disc's identifiers say it holds, or `None` when no rule knows them.
pub fn classify(probe: &IsoProbe) -> Option<OsInfo> {
    matching_rule(probe).map(|(_, info)| info)
}

/// The first rule that matches, with its position in the table (the tests check every rule is used).
fn matching_rule(probe: &IsoProbe) -> Option<(usize, OsInfo)> {
    RULES.iter().enumerate().find_map(|(i, rule)| apply(rule, probe).map(|info| (i, info)))
}

fn apply(rule: &Rule, probe: &IsoProbe) -> Option<OsInfo> {
    let mut distribution = rule.distribution;
    let details = match (rule.when, rule.read) {
        (When::WindowsLabel, _) => {
            let label = probe.volume_names().find_map(windows::read)?;
            if label.server {
                distribution = "windows-server";
            }
            label.details
        }
        (When::Volume(prefix), read) => {
            let name = probe.volume_names().find(|name| starts_with_words(name, prefix))?;
            read_details(read, name, probe)
        }
        (When::System(system), read) => {
            probe.system_id.as_deref().filter(|s| s.eq_ignore_ascii_case(system))?;
            read_details(read, probe.volume_id.as_deref().unwrap_or(""), probe)
        }
        (When::RootFile(file), read) => {
            probe.root_files.iter().find(|f| f.eq_ignore_ascii_case(file))?;
            read_details(read, "", probe)
        }
        (When::CdInfo(product), read) => {
            cd_info(probe, "PRODUCT").filter(|p| p.eq_ignore_ascii_case(product))?;
            read_details(read, "", probe)
        }
    };
    let Details { version, arch, edition } = details;
    Some(OsInfo { family: rule.family, distribution: distribution.to_owned(), version, arch, edition })
}

fn read_details(read: Read, name: &str, probe: &IsoProbe) -> Details {
    match read {
        Read::Words(w) => words::read(&w, name, probe.application_id.as_deref()),
        Read::Fixed { edition } => Details { edition: edition.map(str::to_owned), ..Details::default() },
        Read::CdInfo => Details {
            version: cd_info(probe, "RELEASE").map(str::to_owned),
            edition: Some("installer".to_owned()),
            ..Details::default()
        },
        // Only reached through `When::WindowsLabel`, which reads the label itself.
        Read::Windows => Details::default(),
    }
}

/// A `KEY='value'` line of `/.cd-info`.
fn cd_info<'p>(probe: &'p IsoProbe, key: &str) -> Option<&'p str> {
    probe.cd_info.as_deref()?.lines().find_map(|line| {
        let (k, v) = line.split_once('=')?;
        (k.trim() == key).then(|| v.trim().trim_matches(['\'', '"']))
    })
}

/// `name` starts with the words of `prefix`, and the words end there.
fn starts_with_words(name: &str, prefix: &str) -> bool {
    let separator = |c: char| matches!(c, ' ' | '-' | '_' | '.');
    let mut chars = name.chars();
    for p in prefix.chars() {
        match chars.next() {
            Some(c) if c.eq_ignore_ascii_case(&p) || (separator(c) && separator(p)) => {}
            _ => return false,
        }
    }
    chars.next().is_none_or(separator)
}

/// The folder an image of this OS lands in by default: the same layout as the filename guesser's
/// (`/windows`, `/linux`, else `/other`), so content and filename agree.
pub fn default_folder(info: &OsInfo) -> String {
    match info.family {
        WINDOWS => "/windows",
        LINUX => "/linux",
        _ => "/other",
    }
    .to_owned()
}

#[cfg(test)]
mod tests;
