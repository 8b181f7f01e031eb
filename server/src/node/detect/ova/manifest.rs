//! The OVF manifest (`.mf`, DSP0243 §5.1): one `ALGO(file)= hexdigest` line per file of the package.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Algorithm {
    Sha1,
    Sha256,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Line {
    pub algorithm: Algorithm,
    pub file: String,
    pub digest: Vec<u8>,
}

/// What checking the manifest against the members' digests found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Manifest {
    /// The archive has no `.mf` member.
    Absent,
    /// Every member is listed and every digest matches.
    Verified,
    /// The first member (in manifest order, then archive order) that fails.
    Mismatch { member: String, reason: MismatchReason },
    /// The manifest could not be read: too large, malformed, or an algorithm we do not compute.
    Unreadable { reason: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MismatchReason {
    /// The member's digest differs from the manifest's.
    Digest,
    /// The manifest lists a file the archive does not contain.
    Missing,
    /// The archive contains a file the manifest does not vouch for.
    Unlisted,
}

impl fmt::Display for Manifest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Manifest::Absent => f.write_str("no manifest"),
            Manifest::Verified => f.write_str("manifest verified"),
            Manifest::Mismatch { member, reason: MismatchReason::Digest } => {
                write!(f, "manifest mismatch: {member} does not have the digest the manifest lists")
            }
            Manifest::Mismatch { member, reason: MismatchReason::Missing } => {
                write!(f, "manifest mismatch: {member} is listed but not in the archive")
            }
            Manifest::Mismatch { member, reason: MismatchReason::Unlisted } => {
                write!(f, "manifest mismatch: {member} is in the archive but not in the manifest")
            }
            Manifest::Unreadable { reason } => write!(f, "manifest unreadable: {reason}"),
        }
    }
}

/// Parses a manifest. Blank lines are skipped; `SHA256(a.vmdk)= ab…` and `SHA256(a.vmdk) = ab…` are
/// both written in the wild.
pub(super) fn parse(text: &[u8]) -> Result<Vec<Line>, String> {
    let text = std::str::from_utf8(text).map_err(|_| "it is not UTF-8 text".to_owned())?;
    let mut lines = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        lines.push(parse_line(line).ok_or_else(|| format!("line {} is not `ALGORITHM(file)= digest`", n + 1))??);
    }
    if lines.is_empty() {
        return Err("it lists no files".to_owned());
    }
    Ok(lines)
}

/// `None`: not a manifest line at all; `Some(Err)`: a line we understand but cannot check.
fn parse_line(line: &str) -> Option<Result<Line, String>> {
    let (algorithm, rest) = line.split_once('(')?;
    let (file, digest) = rest.rsplit_once(')')?;
    let digest = digest.trim_start().strip_prefix('=')?.trim();
    let (algorithm, len) = match algorithm.trim().to_ascii_uppercase().as_str() {
        "SHA1" => (Algorithm::Sha1, 20),
        "SHA256" => (Algorithm::Sha256, 32),
        other => return Some(Err(format!("{other} digests are not supported"))),
    };
    let digest = hex::decode(digest).ok().filter(|d| d.len() == len)?;
    Some(Ok(Line { algorithm, file: normalise(file), digest }))
}

/// Member names and manifest names are compared without a leading `./`.
pub(super) fn normalise(name: &str) -> String {
    name.trim_start_matches("./").to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_spacings_and_both_algorithms_parse() {
        let mf = format!("SHA1(vm.ovf)= {}\nSHA256(./disk1.vmdk) = {}\n\n", "ab".repeat(20), "CD".repeat(32));
        let lines = parse(mf.as_bytes()).unwrap();
        assert_eq!(lines[0], Line { algorithm: Algorithm::Sha1, file: "vm.ovf".into(), digest: vec![0xab; 20] });
        assert_eq!((lines[1].algorithm, lines[1].file.as_str()), (Algorithm::Sha256, "disk1.vmdk"));
    }

    #[test]
    fn file_names_may_contain_parentheses() {
        let mf = format!("SHA256(disk (1).vmdk)= {}", "00".repeat(32));
        assert_eq!(parse(mf.as_bytes()).unwrap()[0].file, "disk (1).vmdk");
    }

    #[test]
    fn malformed_lines_are_reported_by_number() {
        let mf = format!("SHA1(a)= {}\nnonsense\n", "00".repeat(20));
        assert_eq!(parse(mf.as_bytes()), Err("line 2 is not `ALGORITHM(file)= digest`".into()));
        assert_eq!(parse(b"SHA1(a)= abcd"), Err("line 1 is not `ALGORITHM(file)= digest`".into()));
        assert_eq!(parse(b"\n\n"), Err("it lists no files".into()));
        assert_eq!(parse(b"\xff"), Err("it is not UTF-8 text".into()));
    }

    #[test]
    fn an_algorithm_we_do_not_compute_is_not_a_mismatch() {
        let mf = format!("SHA512(a)= {}", "00".repeat(64));
        assert_eq!(parse(mf.as_bytes()), Err("SHA512 digests are not supported".into()));
    }
}
