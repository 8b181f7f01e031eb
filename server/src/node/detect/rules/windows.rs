//! Microsoft's volume labels: `[ERA_]SKU_ARCHBUILD_LANG_DVn`, e.g. `CCCOMA_X64FRE_EN-US_DV9`,
//! `IR5_SSS_X64FREV_EN-US_DV9`, `J_CENA_X86FREV_EN-US_DV5`.
//!
//! What the label can and cannot tell (checked against osinfo-db's test data of real discs):
//! - the era prefix: none on Windows 10/11 and Server 2016+, `J_` on Windows 10 1507, `HRM_`/`HB1_` on
//!   Windows 8 / Server 2012, `IRM_`/`IRn_` on 8.1 / 2012 R2;
//! - the SKU: `C…` client, `S…` server; Windows 10 and 11 share `CCCOMA_`, and Server 2016, 2019, 2022
//!   and 2025 share `SSS_`, so the version is given as the candidates, never guessed;
//! - the build suffix after `FRE`/`CHK`: `E` evaluation, `V` volume licence, `O` OEM.

use super::Details;

pub(super) struct Label {
    pub server: bool,
    pub details: Details,
}

/// Reads a label, or `None` when it does not follow Microsoft's scheme.
pub(super) fn read(label: &str) -> Option<Label> {
    let upper = label.to_ascii_uppercase();
    let parts: Vec<&str> = upper.split('_').collect();
    let (era, sku, build, lang, disc) = match parts[..] {
        [sku, build, lang, disc] => (None, sku, build, lang, disc),
        [era, sku, build, lang, disc] => (Some(era), sku, build, lang, disc),
        _ => return None,
    };
    let disc_ok = disc.strip_prefix("DV").is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    let lang_ok = !lang.is_empty() && lang.contains('-') && lang.bytes().all(|b| b.is_ascii_uppercase() || b == b'-');
    let sku_ok = !sku.is_empty() && sku.bytes().all(|b| b.is_ascii_uppercase());
    let (arch, suffix) = arch_and_suffix(build)?;
    if !(disc_ok && lang_ok && sku_ok) {
        return None;
    }
    let server = match sku.as_bytes()[0] {
        b'C' => false,
        b'S' => true,
        _ => return None,
    };
    let version = match (era, server) {
        (None, false) => "10/11",
        // Hyper-V Server and Essentials media ended with 2019; later releases have no such disc.
        (None, true) if matches!(sku, "SHV" | "SESS") => "2016/2019",
        (None, true) => "2016/2019/2022/2025",
        (Some("J"), false) => "10",
        (Some("HRM" | "HB1"), false) => "8",
        (Some("HRM" | "HB1"), true) => "2012",
        (Some(era), false) if is_blue(era) => "8.1",
        (Some(era), true) if is_blue(era) => "2012 R2",
        _ => return None,
    };
    let edition = sku_edition(sku);
    let edition = match (edition, suffix.contains('E')) {
        (Some(e), true) => Some(format!("{e}-eval")),
        (None, true) => Some("eval".to_owned()),
        (e, false) => e.map(str::to_owned),
    };
    Some(Label { server, details: Details { version: Some(version.to_owned()), arch: Some(arch.to_owned()), edition } })
}

/// `IRM`, `IR1`…`IR9`: the Windows 8.1 / Server 2012 R2 ("Blue") releases.
fn is_blue(era: &str) -> bool {
    era.strip_prefix("IR").is_some_and(|n| n == "M" || (n.len() == 1 && n.as_bytes()[0].is_ascii_digit()))
}

fn arch_and_suffix(build: &str) -> Option<(&'static str, &str)> {
    let (arch, rest) = [("X64", "x86_64"), ("X86", "i686"), ("A64", "aarch64")]
        .iter()
        .find_map(|&(code, arch)| build.strip_prefix(code).map(|rest| (arch, rest)))?;
    let suffix = rest.strip_prefix("FRE").or_else(|| rest.strip_prefix("CHK"))?;
    suffix.bytes().all(|b| matches!(b, b'E' | b'V' | b'O')).then_some((arch, suffix))
}

/// The SKU codes whose meaning is plain from the media they appear on.
fn sku_edition(sku: &str) -> Option<&'static str> {
    const SKUS: &[(&str, &str)] = &[
        ("CCCOMA", "consumer"),
        ("CCSNA", "consumer-n"),
        ("CCSA", "consumer"),
        ("CCPA", "preview"),
        ("CPRN", "pro-n"),
        ("CPR", "pro"),
        ("CENN", "enterprise-n"),
        ("CEN", "enterprise"),
        ("CEDN", "education-n"),
        ("CED", "education"),
        ("CES", "enterprise-ltsc"),
        ("SSS", "standard-datacenter"),
        ("SESS", "essentials"),
        ("SHV", "hyper-v"),
        ("SFST", "foundation"),
    ];
    SKUS.iter().find(|(code, _)| sku.starts_with(code)).map(|&(_, e)| e)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(label: &str) -> Option<(bool, String)> {
        read(label).map(|l| (l.server, l.details.version.unwrap()))
    }

    #[test]
    fn labels_outside_microsofts_scheme_are_not_windows() {
        for label in [
            "Ubuntu 24.04 LTS amd64",
            "ARCH_202402",
            "14_1_RELEASE_AMD64_CD",
            "CCCOMA_X64FRE_EN-US",
            "XYZ_X64FRE_EN-US_DV9",
            "SSS_Z64FRE_EN-US_DV9",
            "CCCOMA_X64FREQ_EN-US_DV9",
            "",
        ] {
            assert!(read(label).is_none(), "{label}");
        }
    }

    #[test]
    fn eras_decide_the_version() {
        assert_eq!(version("HRM_CENA_X64FREV_EN-US_DV5"), Some((false, "8".into())));
        assert_eq!(version("IR3_SSS_X64FRE_EN-US_DV9"), Some((true, "2012 R2".into())));
        assert_eq!(version("IRM_CCSA_X64FRE_EN-US_DV5"), Some((false, "8.1".into())));
        assert_eq!(version("ZZ_CCSA_X64FRE_EN-US_DV5"), None);
    }

    #[test]
    fn lower_case_labels_read_the_same() {
        assert_eq!(version("cccoma_x64fre_en-us_dv9"), Some((false, "10/11".into())));
    }
}
