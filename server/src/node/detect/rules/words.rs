//! Reading version, architecture and edition from the words of a volume id.
//!
//! Volume ids are short (32 characters) and written by release scripts, so they are regular:
//! `Ubuntu-Server 24.04.2 LTS riscv`, `Rocky-9-4-x86_64-dvd`, `14_1_RELEASE_AMD64_CD`. Splitting on
//! the separators they use and reading the words is enough; no regular expressions are needed.

use super::Details;

/// How a product writes its version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Version {
    /// Every number of the first run: `24.04.2`, `8.5.2111`.
    All,
    /// The first number only (Fedora's `33-1-2` is release 33, compose 1.2).
    Major,
    /// The first two numbers (`9-4-0` is RHEL 9.4; `15.3-2` is Leap 15.3, respin 2).
    MajorMinor,
    /// `202402` → `2024.02` (Arch's monthly snapshots).
    YearMonth,
    /// SUSE's `15-SP6`.
    ServicePack,
    /// The second `-`-separated field as written (`ESXI-8.0U3-…` → `8.0U3`).
    SecondField,
    /// The id carries no version.
    None,
}

/// How one product's volume id is read. Every list is matched against lower-case words.
#[derive(Debug, Clone, Copy)]
pub(super) struct Words {
    pub version: Version,
    /// Words that stand for a version (`testing`, `rawh`), with the version they mean.
    pub named_versions: &'static [(&'static str, &'static str)],
    /// Words that name the edition, in priority order; a word ending in `*` matches as a prefix.
    pub editions: &'static [(&'static str, &'static str)],
    pub default_edition: Option<&'static str>,
    /// Abbreviations this product uses for an architecture (Ubuntu cuts every arch to 5 letters).
    pub arch_aliases: &'static [(&'static str, &'static str)],
    /// Also read the application id, which some products fill with an untruncated form of the
    /// volume id (SUSE's `…-x86_64-Build710.3-Media`), and prefer it when it has a version and arch.
    pub prefer_application_id: bool,
}

impl Words {
    pub const PLAIN: Words = Words {
        version: Version::All,
        named_versions: &[],
        editions: &[],
        default_edition: None,
        arch_aliases: &[],
        prefer_application_id: false,
    };
}

/// Architecture words as release scripts write them, and the name we report.
const ARCHES: &[(&str, &str)] = &[
    ("x86_64", "x86_64"),
    ("amd64", "x86_64"),
    ("x64", "x86_64"),
    ("i386", "i686"),
    ("i586", "i686"),
    ("i686", "i686"),
    ("x86", "i686"),
    ("aarch64", "aarch64"),
    ("arm64", "aarch64"),
    ("armhf", "armv7l"),
    ("armhfp", "armv7l"),
    ("armv7", "armv7l"),
    ("armv7l", "armv7l"),
    ("ppc64le", "ppc64le"),
    ("ppc64el", "ppc64le"),
    ("p64el", "ppc64le"),
    ("powerpc64le", "ppc64le"),
    ("ppc64", "ppc64"),
    ("powerpc64", "ppc64"),
    ("s390x", "s390x"),
    ("riscv64", "riscv64"),
    ("loongarch64", "loongarch64"),
];

pub(super) fn read(words: &Words, volume: &str, application: Option<&str>) -> Details {
    let from_volume = read_one(words, volume);
    if words.prefer_application_id
        && let Some(app) = application
    {
        let from_app = read_one(words, app);
        if from_app.version.is_some() && from_app.arch.is_some() {
            return from_app;
        }
    }
    from_volume
}

fn read_one(words: &Words, text: &str) -> Details {
    let tokens: Vec<String> =
        text.split([' ', '-', '_', '.', ':']).filter(|t| !t.is_empty()).map(str::to_ascii_lowercase).collect();
    let (arch, arch_at) = arch(words, &tokens);
    let numbers = |i: usize| !arch_at.contains(&i) && tokens[i].bytes().all(|b| b.is_ascii_digit());
    let first_run: Vec<&str> = match (0..tokens.len()).find(|&i| numbers(i)) {
        Some(start) => (start..tokens.len()).take_while(|&i| numbers(i)).map(|i| tokens[i].as_str()).collect(),
        None => Vec::new(),
    };
    let version = match words.version {
        Version::All => join(&first_run, first_run.len()),
        Version::Major => join(&first_run, 1),
        Version::MajorMinor => join(&first_run, 2),
        Version::YearMonth => first_run.first().filter(|y| y.len() == 6).map(|ym| format!("{}.{}", &ym[..4], &ym[4..])),
        Version::ServicePack => join(&first_run, 2).map(|v| match tokens.iter().find(|t| is_service_pack(t)) {
            Some(sp) => format!("{v}-{}", sp.to_ascii_uppercase()),
            None => v,
        }),
        Version::SecondField => text.split('-').nth(1).filter(|f| !f.is_empty()).map(update_letters),
        Version::None => None,
    }
    .or_else(|| {
        words.named_versions.iter().find(|(word, _)| tokens.iter().any(|t| t == word)).map(|(_, v)| v.to_string())
    });
    let edition = words
        .editions
        .iter()
        .find(|(word, _)| tokens.iter().any(|t| word_matches(word, t)))
        .map(|&(_, e)| e)
        .or(words.default_edition)
        .map(str::to_owned);
    Details { version, arch: arch.map(str::to_owned), edition }
}

/// The architecture and the positions of the words it was read from (so `x86_64` is not version 64).
fn arch(words: &Words, tokens: &[String]) -> (Option<&'static str>, Vec<usize>) {
    for (i, t) in tokens.iter().enumerate() {
        // `x86_64` was split at its underscore; a truncated id may even run it into a build number.
        if t == "x86" && tokens.get(i + 1).is_some_and(|next| next.starts_with("64")) {
            return (Some("x86_64"), vec![i, i + 1]);
        }
        let alias = words.arch_aliases.iter().chain(ARCHES).find(|(word, _)| word == t);
        if let Some(&(_, arch)) = alias {
            return (Some(arch), vec![i]);
        }
    }
    (None, Vec::new())
}

fn word_matches(word: &str, token: &str) -> bool {
    match word.strip_suffix('*') {
        Some(prefix) => token.starts_with(prefix),
        None => token == word,
    }
}

fn join(numbers: &[&str], at_most: usize) -> Option<String> {
    (!numbers.is_empty()).then(|| numbers[..at_most.min(numbers.len())].join("."))
}

fn is_service_pack(token: &str) -> bool {
    token.strip_prefix("sp").is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// `8.0U3C` (upper-cased by the volume id) → `8.0U3c`, the way VMware writes its update letters.
fn update_letters(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut after_update_digit = false;
    for c in field.chars() {
        if c.eq_ignore_ascii_case(&'u') && !after_update_digit {
            out.push('U');
            continue;
        }
        after_update_digit |= c.is_ascii_digit() && out.contains('U');
        out.push(if after_update_digit { c.to_ascii_lowercase() } else { c });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_plain(version: Version, text: &str) -> Details {
        read(&Words { version, ..Words::PLAIN }, text, None)
    }

    #[test]
    fn numbers_after_an_architecture_are_not_a_version() {
        let d = read_plain(Version::Major, "Fedora-S-dvd-x86_64-43");
        assert_eq!((d.version.as_deref(), d.arch.as_deref()), (Some("43"), Some("x86_64")));
    }

    #[test]
    fn a_truncated_x86_64_is_still_x86_64() {
        assert_eq!(read_plain(Version::All, "openSUSE-Leap-15.6-DVD-x86_64710").arch.as_deref(), Some("x86_64"));
    }

    #[test]
    fn version_styles() {
        assert_eq!(read_plain(Version::All, "Ubuntu-Server 24.04.2 LTS riscv").version.as_deref(), Some("24.04.2"));
        assert_eq!(read_plain(Version::MajorMinor, "RHEL-9-4-0-BaseOS-x86_64").version.as_deref(), Some("9.4"));
        assert_eq!(read_plain(Version::YearMonth, "ARCH_202402").version.as_deref(), Some("2024.02"));
        assert_eq!(read_plain(Version::ServicePack, "SLE-15-SP6-Full-x86_64").version.as_deref(), Some("15-SP6"));
        assert_eq!(read_plain(Version::ServicePack, "SLES-16.0-Full-x86_64").version.as_deref(), Some("16.0"));
        assert_eq!(
            read_plain(Version::SecondField, "ESXI-8.0U3C-24022510-STANDARD").version.as_deref(),
            Some("8.0U3c")
        );
        assert_eq!(read_plain(Version::None, "OPNSENSE_INSTALL").version, None);
    }

    #[test]
    fn editions_follow_the_rule_order_and_prefixes() {
        let words = Words { editions: &[("ws", "workstation"), ("live*", "live")], ..Words::PLAIN };
        assert_eq!(read(&words, "Fedora-WS-Live-42", None).edition.as_deref(), Some("workstation"));
        assert_eq!(read(&words, "CentOS-7-x86_64-LiveGNOME-1804", None).edition.as_deref(), Some("live"));
    }

    #[test]
    fn the_application_id_is_preferred_only_when_it_says_more() {
        let words = Words { prefer_application_id: true, ..Words::PLAIN };
        let d = read(&words, "openSUSE_Leap_15.6_GNOME_Live", Some("0X149E664E"));
        assert_eq!((d.version.as_deref(), d.arch), (Some("15.6"), None));
        let d = read(&words, "SLE-15-SP6-Full-x86_6492.11.001", Some("SLE-15-SP6-Full-x86_64-Build92.1-Media1"));
        assert_eq!(d.arch.as_deref(), Some("x86_64"));
    }
}
