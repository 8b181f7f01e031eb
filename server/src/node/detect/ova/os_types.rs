//! What an OVF's OperatingSystemSection names: a DMTF CIM_OperatingSystem `OSType` number (`ovf:id`)
//! and, in VMware's OVFs, a vSphere guest id (`vmw:osType`, e.g. `ubuntu64Guest`).
//!
//! Both tables are written here from the published value lists: the subset of CIM numbers an OVA's
//! guest plausibly has, and the shape of VMware's guest ids (`<name><version>[_]64Guest`).

use super::super::OsInfo;
use super::super::family::{BSD, LINUX, OTHER, WINDOWS};

/// CIM OSType → family, distribution, version, and whether the value names the 64-bit variant.
/// Numbers from DMTF's CIM_OperatingSystem ValueMap (which skips 112).
const CIM: &[(u16, &str, &str, &str, bool)] = &[
    (36, LINUX, "linux", "", false),
    (42, BSD, "freebsd", "", false),
    (43, BSD, "netbsd", "", false),
    (58, WINDOWS, "windows", "2000", false),
    (65, BSD, "openbsd", "", false),
    (67, WINDOWS, "windows", "xp", false),
    (69, WINDOWS, "windows-server", "2003", false),
    (70, WINDOWS, "windows-server", "2003", true),
    (71, WINDOWS, "windows", "xp", true),
    (73, WINDOWS, "windows", "vista", false),
    (74, WINDOWS, "windows", "vista", true),
    (76, WINDOWS, "windows-server", "2008", false),
    (77, WINDOWS, "windows-server", "2008", true),
    (78, BSD, "freebsd", "", true),
    (79, LINUX, "rhel", "", false),
    (80, LINUX, "rhel", "", true),
    (82, LINUX, "suse", "", false),
    (83, LINUX, "suse", "", true),
    (84, LINUX, "sles", "", false),
    (85, LINUX, "sles", "", true),
    (89, LINUX, "mandriva", "", false),
    (90, LINUX, "mandriva", "", true),
    (93, LINUX, "ubuntu", "", false),
    (94, LINUX, "ubuntu", "", true),
    (95, LINUX, "debian", "", false),
    (96, LINUX, "debian", "", true),
    (97, LINUX, "linux", "", false),
    (98, LINUX, "linux", "", true),
    (99, LINUX, "linux", "", false),
    (100, LINUX, "linux", "", true),
    (101, LINUX, "linux", "", true),
    (103, WINDOWS, "windows-server", "2008 R2", true),
    (104, OTHER, "esxi", "", true),
    (105, WINDOWS, "windows", "7", false),
    (106, LINUX, "centos", "", false),
    (107, LINUX, "centos", "", true),
    (108, LINUX, "oracle", "", false),
    (109, LINUX, "oracle", "", true),
    (111, WINDOWS, "windows-server", "2011", true),
    (113, WINDOWS, "windows-server", "2012", true),
    (114, WINDOWS, "windows", "8", false),
    (115, WINDOWS, "windows", "8", true),
    (116, WINDOWS, "windows-server", "2012 R2", true),
    (117, WINDOWS, "windows-server", "2016", true),
    (118, WINDOWS, "windows", "8.1", false),
    (119, WINDOWS, "windows", "8.1", true),
    (120, WINDOWS, "windows", "10", false),
    (121, WINDOWS, "windows", "10", true),
];

/// VMware's Windows guest ids, which do not follow the `<name><version>` shape.
const VMWARE_WINDOWS: &[(&str, &str, &str, bool)] = &[
    ("windows7", "windows", "7", false),
    ("windows7_64", "windows", "7", true),
    ("windows8", "windows", "8", false),
    ("windows8_64", "windows", "8", true),
    ("windows9", "windows", "10", false),
    ("windows9_64", "windows", "10", true),
    ("windows11_64", "windows", "11", true),
    ("winxppro", "windows", "xp", false),
    ("winxppro64", "windows", "xp", true),
    ("winvista", "windows", "vista", false),
    ("winvista64", "windows", "vista", true),
    ("winnetstandard", "windows-server", "2003", false),
    ("winnetstandard64", "windows-server", "2003", true),
    ("winnetenterprise64", "windows-server", "2003", true),
    ("winlonghorn", "windows-server", "2008", false),
    ("winlonghorn64", "windows-server", "2008", true),
    ("windows7server64", "windows-server", "2008 R2", true),
    // One vSphere id covers both 2012 and 2012 R2.
    ("windows8server64", "windows-server", "2012/2012 R2", true),
    ("windows9server64", "windows-server", "2016", true),
    ("windows2019srv_64", "windows-server", "2019", true),
    ("windows2019srvnext_64", "windows-server", "2022", true),
    ("windows2022srvnext_64", "windows-server", "2025", true),
];

/// VMware guest-id names (lower case) that are not the distribution slug we use.
const VMWARE_NAMES: &[(&str, &str, &str)] = &[
    ("ubuntu", LINUX, "ubuntu"),
    ("debian", LINUX, "debian"),
    ("rhel", LINUX, "rhel"),
    ("centos", LINUX, "centos"),
    ("sles", LINUX, "sles"),
    ("opensuse", LINUX, "opensuse"),
    ("suse", LINUX, "suse"),
    ("oraclelinux", LINUX, "oracle"),
    ("oracle", LINUX, "oracle"),
    ("fedora", LINUX, "fedora"),
    ("almalinux", LINUX, "almalinux"),
    ("rockylinux", LINUX, "rocky"),
    ("photon", LINUX, "photon"),
    ("amazonlinux", LINUX, "amazon"),
    ("asianux", LINUX, "asianux"),
    ("mandriva", LINUX, "mandriva"),
    ("freebsd", BSD, "freebsd"),
];

pub(super) fn from_cim(id: u16) -> Option<OsInfo> {
    let &(_, family, distribution, version, is_64) = CIM.iter().find(|row| row.0 == id)?;
    Some(info(family, distribution, version, is_64.then_some("x86_64")))
}

pub(super) fn from_vmware(guest: &str) -> Option<OsInfo> {
    let lower = guest.to_ascii_lowercase();
    let base = lower.strip_suffix("guest")?;
    if let Some(&(_, distribution, version, is_64)) = VMWARE_WINDOWS.iter().find(|row| row.0 == base) {
        return Some(info(WINDOWS, distribution, version, Some(if is_64 { "x86_64" } else { "i686" })));
    }
    let (arm, base) = match base.strip_prefix("arm-") {
        Some(rest) => (true, rest),
        None => (false, base),
    };
    let (wide, base) = match base.strip_suffix("_64").or_else(|| base.strip_suffix("64")) {
        Some(rest) => (true, rest),
        None => (false, base),
    };
    let arch = match (arm, wide) {
        (true, _) => "aarch64",
        (false, true) => "x86_64",
        (false, false) => "i686",
    };
    if base.starts_with("other") && base.ends_with("linux") {
        return Some(info(LINUX, "linux", "", Some(arch)));
    }
    let name = base.trim_end_matches(|c: char| c.is_ascii_digit());
    let version = &base[name.len()..];
    if name == "vmkernel" {
        // ESXi guests: the id carries the major version only, and ESXi exists only for 64-bit.
        return Some(info(OTHER, "esxi", version, None));
    }
    let &(_, family, distribution) = VMWARE_NAMES.iter().find(|row| row.0 == name)?;
    Some(info(family, distribution, version, Some(arch)))
}

fn info(family: &'static str, distribution: &str, version: &str, arch: Option<&str>) -> OsInfo {
    OsInfo {
        family,
        distribution: distribution.to_owned(),
        version: (!version.is_empty()).then(|| version.to_owned()),
        arch: arch.map(str::to_owned),
        edition: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brief(info: Option<OsInfo>) -> Option<(String, Option<String>, Option<String>)> {
        info.map(|i| (i.distribution, i.version, i.arch))
    }

    fn s(v: &str) -> Option<String> {
        Some(v.to_owned())
    }

    #[test]
    fn vmware_guest_ids_give_distribution_version_and_arch() {
        assert_eq!(brief(from_vmware("ubuntu64Guest")), Some(("ubuntu".into(), None, s("x86_64"))));
        assert_eq!(brief(from_vmware("rhel9_64Guest")), Some(("rhel".into(), s("9"), s("x86_64"))));
        assert_eq!(brief(from_vmware("debian12_64Guest")), Some(("debian".into(), s("12"), s("x86_64"))));
        assert_eq!(brief(from_vmware("arm-debian12_64Guest")), Some(("debian".into(), s("12"), s("aarch64"))));
        assert_eq!(brief(from_vmware("other5xLinux64Guest")), Some(("linux".into(), None, s("x86_64"))));
        assert_eq!(brief(from_vmware("freebsd13_64Guest")), Some(("freebsd".into(), s("13"), s("x86_64"))));
        assert_eq!(brief(from_vmware("vmkernel8Guest")), Some(("esxi".into(), s("8"), None)));
        assert_eq!(from_vmware("nonsense"), None);
        assert_eq!(from_vmware("beosGuest"), None);
    }

    #[test]
    fn vmware_windows_ids_say_client_or_server_and_which() {
        assert_eq!(brief(from_vmware("windows9_64Guest")), Some(("windows".into(), s("10"), s("x86_64"))));
        assert_eq!(brief(from_vmware("windows11_64Guest")), Some(("windows".into(), s("11"), s("x86_64"))));
        assert_eq!(
            brief(from_vmware("windows2019srv_64Guest")),
            Some(("windows-server".into(), s("2019"), s("x86_64")))
        );
        assert_eq!(
            brief(from_vmware("windows2019srvNext_64Guest")),
            Some(("windows-server".into(), s("2022"), s("x86_64")))
        );
        assert_eq!(
            brief(from_vmware("windows8Server64Guest")),
            Some(("windows-server".into(), s("2012/2012 R2"), s("x86_64")))
        );
    }

    #[test]
    fn cim_numbers_map_to_families() {
        assert_eq!(
            from_cim(94).map(|i| (i.family, i.distribution, i.arch)),
            Some((LINUX, "ubuntu".into(), s("x86_64")))
        );
        assert_eq!(from_cim(42).map(|i| i.family), Some(BSD));
        assert_eq!(from_cim(117).and_then(|i| i.version), s("2016"));
        assert_eq!(from_cim(1), None);
        assert_eq!(from_cim(112), None);
    }
}
