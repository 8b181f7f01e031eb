//! Virtual folder paths: the one parser shared by the server and the browser, so the UI rejects exactly
//! what the API rejects.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Deepest nesting allowed: `/a/b/c/d/e`.
pub const MAX_DEPTH: usize = 5;
/// Longest normalised path, in bytes.
pub const MAX_BYTES: usize = 255;
/// Characters refused inside a folder name (they are special on at least one common filesystem or shell).
pub const FORBIDDEN_CHARS: &[char] = &['/', '\\', '<', '>', ':', '"', '|', '?', '*'];

/// The folders every catalogue shows, even while empty.
pub const DEFAULT_FOLDERS: [&str; 3] = ["/windows", "/linux", "/other"];

/// A validated, normalised virtual folder path: `/` or `/seg/seg/...`.
///
/// Folders are metadata, never directories: nothing here touches a filesystem.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FolderPath(String);

/// Why a folder path was refused. The `Display` text is shown to people as is, by the API and the UI.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FolderPathError {
    #[error("The folder path is empty; use \"/\" for the top-level folder.")]
    Empty,
    #[error("The folder path \"{0}\" contains an empty folder name (two slashes in a row).")]
    EmptySegment(String),
    #[error("\"{0}\" cannot be used as a folder name.")]
    DotSegment(String),
    #[error(
        "The folder name \"{name}\" contains {what}, which is not allowed in folder names (not allowed: / \\ < > : \" | ? *, control, bidirectional and zero-width characters)."
    )]
    ForbiddenChar { name: String, what: String },
    #[error("The folder name \"{0}\" starts or ends with a space.")]
    EdgeWhitespace(String),
    #[error("Folders can be nested at most {MAX_DEPTH} levels deep; this path has {0}.")]
    TooDeep(usize),
    #[error("The folder path is {0} bytes long; the limit is {MAX_BYTES} bytes.")]
    TooLong(usize),
}

impl FolderPath {
    /// The top-level folder, `/`.
    pub fn root() -> Self {
        Self("/".to_owned())
    }

    /// Parses and normalises user input: surrounding whitespace and one trailing slash are dropped, a
    /// missing leading slash is added; everything else that is not a valid path is refused.
    pub fn parse(input: &str) -> Result<Self, FolderPathError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(FolderPathError::Empty);
        }
        if trimmed == "/" {
            return Ok(Self::root());
        }
        let body = trimmed.strip_prefix('/').unwrap_or(trimmed);
        let body = body.strip_suffix('/').unwrap_or(body);
        let mut normalised = String::with_capacity(body.len() + 1);
        let mut depth = 0;
        for segment in body.split('/') {
            check_segment(segment, trimmed)?;
            normalised.push('/');
            normalised.push_str(segment);
            depth += 1;
        }
        if depth > MAX_DEPTH {
            return Err(FolderPathError::TooDeep(depth));
        }
        if normalised.len() > MAX_BYTES {
            return Err(FolderPathError::TooLong(normalised.len()));
        }
        Ok(Self(normalised))
    }

    /// Checks one folder name (a single segment), as typed into a "new folder" box.
    pub fn check_name(name: &str) -> Result<(), FolderPathError> {
        check_segment(name, name)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_root(&self) -> bool {
        self.0 == "/"
    }

    /// The folder names from the top down; empty for the root.
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.0.split('/').filter(|s| !s.is_empty())
    }

    pub fn depth(&self) -> usize {
        self.segments().count()
    }

    /// The last folder name, or `/` for the root.
    pub fn name(&self) -> &str {
        self.segments().last().unwrap_or("/")
    }

    pub fn parent(&self) -> Option<FolderPath> {
        if self.is_root() {
            return None;
        }
        let cut = self.0.rfind('/').unwrap_or(0);
        Some(if cut == 0 { Self::root() } else { Self(self.0[..cut].to_owned()) })
    }

    /// Every ancestor from the root down, excluding `self`.
    pub fn ancestors(&self) -> Vec<FolderPath> {
        let mut out = Vec::with_capacity(self.depth());
        let mut cur = self.parent();
        while let Some(p) = cur {
            cur = p.parent();
            out.push(p);
        }
        out.reverse();
        out
    }

    /// A child folder; validated like any other path.
    pub fn join(&self, name: &str) -> Result<FolderPath, FolderPathError> {
        check_segment(name, name)?;
        if self.is_root() { Self::parse(name) } else { Self::parse(&format!("{}/{name}", self.0)) }
    }

    /// True when `self` is `other` or lies beneath it (by whole segments: `/win` does not contain `/windows`).
    pub fn is_within(&self, other: &FolderPath) -> bool {
        other.is_root()
            || self.0 == other.0
            || (self.0.starts_with(&other.0) && self.0.as_bytes().get(other.0.len()) == Some(&b'/'))
    }

    /// Moves `self` from beneath `from` to beneath `to` (for folder renames); `None` if it is not within `from`.
    pub fn rebase(&self, from: &FolderPath, to: &FolderPath) -> Option<Result<FolderPath, FolderPathError>> {
        if !self.is_within(from) {
            return None;
        }
        let rest = if from.is_root() { self.0.as_str() } else { &self.0[from.0.len()..] };
        let joined = match (to.is_root(), rest) {
            (_, "") => to.0.clone(),
            (true, rest) => rest.to_owned(),
            (false, rest) => format!("{}{rest}", to.0),
        };
        Some(Self::parse(&joined))
    }

    /// The default folders as values.
    pub fn defaults() -> impl Iterator<Item = FolderPath> {
        DEFAULT_FOLDERS.iter().map(|p| FolderPath(String::from(*p)))
    }
}

fn check_segment(segment: &str, whole: &str) -> Result<(), FolderPathError> {
    if segment.is_empty() {
        return Err(FolderPathError::EmptySegment(whole.to_owned()));
    }
    if segment == "." || segment == ".." {
        return Err(FolderPathError::DotSegment(segment.to_owned()));
    }
    if let Some((_, why)) = super::text::find_hidden(segment) {
        return Err(FolderPathError::ForbiddenChar { name: super::text::shown(segment), what: why.to_owned() });
    }
    if let Some(c) = segment.chars().find(|c| FORBIDDEN_CHARS.contains(c)) {
        return Err(FolderPathError::ForbiddenChar { name: segment.to_owned(), what: format!("'{c}'") });
    }
    if segment.starts_with(char::is_whitespace) || segment.ends_with(char::is_whitespace) {
        return Err(FolderPathError::EdgeWhitespace(segment.to_owned()));
    }
    Ok(())
}

impl fmt::Display for FolderPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for FolderPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FolderPath({:?})", self.0)
    }
}

impl Default for FolderPath {
    fn default() -> Self {
        Self::root()
    }
}

impl AsRef<str> for FolderPath {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for FolderPath {
    type Err = FolderPathError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for FolderPath {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for FolderPath {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        FolderPath::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (input, Ok(normalised) | Err(()))
    const CASES: &[(&str, Option<&str>)] = &[
        ("/", Some("/")),
        ("  /  ", Some("/")),
        ("/windows", Some("/windows")),
        ("/windows/", Some("/windows")),
        ("windows", Some("/windows")),
        ("windows/server/2022", Some("/windows/server/2022")),
        ("/windows/server/2022/", Some("/windows/server/2022")),
        ("/a/b/c/d/e", Some("/a/b/c/d/e")),
        ("/a/b/c/d/e/f", None),
        ("/a/b/c/d/e/", Some("/a/b/c/d/e")),
        ("/linux/ubuntu 24.04 LTS", Some("/linux/ubuntu 24.04 LTS")),
        ("/linux/Debian_12-netinst (amd64)", Some("/linux/Debian_12-netinst (amd64)")),
        ("/日本語/ウィンドウズ", Some("/日本語/ウィンドウズ")),
        ("/Ελληνικά", Some("/Ελληνικά")),
        ("/emoji 💿", Some("/emoji 💿")),
        ("/.hidden", Some("/.hidden")),
        ("/v1.2..3", Some("/v1.2..3")),
        ("", None),
        ("   ", None),
        ("//", None),
        ("/windows//server", None),
        ("//windows", None),
        ("/windows//", None),
        ("/..", None),
        ("/windows/..", None),
        ("/windows/../etc", None),
        ("/.", None),
        ("/windows/./server", None),
        ("/win\\dows", None),
        ("/win<dows", None),
        ("/win>dows", None),
        ("/win:dows", None),
        ("/win\"dows", None),
        ("/win|dows", None),
        ("/win?dows", None),
        ("/win*dows", None),
        ("/win\0dows", None),
        ("/win\ndows", None),
        ("/win\tdows", None),
        ("/win\u{7f}dows", None),
        ("/win\u{9b}dows", None),
        ("/ leading", None),
        ("/trailing /x", None),
    ];

    #[test]
    fn table_of_paths() {
        for (input, want) in CASES {
            let got = FolderPath::parse(input);
            match want {
                Some(norm) => assert_eq!(got.as_ref().map(FolderPath::as_str), Ok(*norm), "input {input:?}"),
                None => assert!(got.is_err(), "input {input:?} should be refused, got {got:?}"),
            }
        }
    }

    fn path_of_len(len: usize) -> String {
        // "/" + 4 segments of 50 bytes separated by "/" + a final segment padding to `len`.
        let mut s = String::new();
        for _ in 0..4 {
            s.push('/');
            s.push_str(&"a".repeat(50));
        }
        s.push('/');
        let rest = len - s.len();
        s.push_str(&"b".repeat(rest));
        assert_eq!(s.len(), len);
        s
    }

    #[test]
    fn length_limit_is_255_bytes() {
        assert!(FolderPath::parse(&path_of_len(255)).is_ok());
        assert_eq!(FolderPath::parse(&path_of_len(256)), Err(FolderPathError::TooLong(256)));
        // Multibyte characters count in bytes: 85 × 3 bytes = 255 with the slash making 256.
        assert_eq!(FolderPath::parse(&format!("/{}", "語".repeat(85))), Err(FolderPathError::TooLong(256)));
        assert!(FolderPath::parse(&format!("/{}", "語".repeat(84))).is_ok());
    }

    #[test]
    fn depth_five_allowed_six_refused() {
        assert_eq!(FolderPath::parse("/1/2/3/4/5").unwrap().depth(), 5);
        assert_eq!(FolderPath::parse("/1/2/3/4/5/6"), Err(FolderPathError::TooDeep(6)));
    }

    #[test]
    fn messages_name_the_problem() {
        let e = FolderPath::parse("/a/b:c").unwrap_err().to_string();
        assert!(e.contains("\"b:c\"") && e.contains("':'"), "{e}");
        let e = FolderPath::parse("/a\nb").unwrap_err().to_string();
        assert!(e.contains("a\\nb") && e.contains("control character"), "{e}");
        assert!(FolderPath::parse("/x/..").unwrap_err().to_string().contains("\"..\""));
    }

    #[test]
    fn navigation() {
        let p = FolderPath::parse("/windows/server/2022").unwrap();
        assert_eq!(p.name(), "2022");
        assert_eq!(p.parent().unwrap().as_str(), "/windows/server");
        let anc: Vec<_> = p.ancestors().iter().map(|a| a.as_str().to_owned()).collect();
        assert_eq!(anc, ["/", "/windows", "/windows/server"]);
        assert!(FolderPath::root().parent().is_none());
        assert_eq!(FolderPath::root().join("linux").unwrap().as_str(), "/linux");
        assert_eq!(p.join("core").unwrap().as_str(), "/windows/server/2022/core");
        assert!(p.join("a/b").is_err());
    }

    #[test]
    fn within_is_by_whole_segments() {
        let win = FolderPath::parse("/win").unwrap();
        let windows = FolderPath::parse("/windows").unwrap();
        let sub = FolderPath::parse("/windows/10").unwrap();
        assert!(!windows.is_within(&win));
        assert!(sub.is_within(&windows));
        assert!(windows.is_within(&windows));
        assert!(windows.is_within(&FolderPath::root()));
        assert!(!windows.is_within(&sub));
    }

    #[test]
    fn rebase_moves_subtrees() {
        let from = FolderPath::parse("/windows").unwrap();
        let to = FolderPath::parse("/microsoft/windows").unwrap();
        let p = FolderPath::parse("/windows/10").unwrap();
        assert_eq!(p.rebase(&from, &to).unwrap().unwrap().as_str(), "/microsoft/windows/10");
        assert_eq!(from.rebase(&from, &to).unwrap().unwrap().as_str(), "/microsoft/windows");
        assert!(FolderPath::parse("/linux").unwrap().rebase(&from, &to).is_none());
        let deep = FolderPath::parse("/windows/a/b/c/d").unwrap();
        assert_eq!(deep.rebase(&from, &to).unwrap(), Err(FolderPathError::TooDeep(6)));
        let root_to = FolderPath::root();
        assert_eq!(p.rebase(&from, &root_to).unwrap().unwrap().as_str(), "/10");
    }

    #[test]
    fn serde_is_a_plain_string_and_validates() {
        let p = FolderPath::parse("/linux/ubuntu").unwrap();
        assert_eq!(serde_json::to_string(&p).unwrap(), "\"/linux/ubuntu\"");
        assert_eq!(serde_json::from_str::<FolderPath>("\"linux/ubuntu/\"").unwrap(), p);
        let err = serde_json::from_str::<FolderPath>("\"/a/../b\"").unwrap_err().to_string();
        assert!(err.contains("\"..\" cannot be used"), "{err}");
    }
}
