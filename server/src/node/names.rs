//! Image filenames that came from a request: one plain name ending `.iso`, `.img` or `.ova`.

use std::fmt;

use app::model::{FORBIDDEN_CHARS, ImageFormat};

/// A filename that is safe to join to a pool's `iso/` directory.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ImageFileName(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("The file has no name.")]
    Empty,
    #[error("The file name is {0} bytes long; the limit is 255.")]
    TooLong(usize),
    #[error("The file name \"{name}\" contains {what}; it must be one plain file name.")]
    Forbidden { name: String, what: &'static str },
    #[error("The file name \"{0}\" starts with a dot; hidden files are not accepted.")]
    Hidden(String),
    #[error("The file name \"{0}\" starts or ends with a space.")]
    EdgeWhitespace(String),
    #[error("The file \"{0}\" is not an image: the name must end in .iso, .img or .ova.")]
    Extension(String),
}

impl ImageFileName {
    pub fn parse(raw: &str) -> Result<Self, NameError> {
        let shown = || raw.chars().map(|c| if c.is_control() { '?' } else { c }).collect::<String>();
        let forbidden = |what| Err(NameError::Forbidden { name: shown(), what });
        if raw.is_empty() {
            return Err(NameError::Empty);
        }
        if raw.len() > 255 {
            return Err(NameError::TooLong(raw.len()));
        }
        if raw.contains('/') || raw.contains('\\') {
            return forbidden("a path separator");
        }
        if raw.contains("..") {
            return forbidden("\"..\"");
        }
        if raw.chars().any(char::is_control) {
            return forbidden("a control character");
        }
        if raw.chars().any(|c| FORBIDDEN_CHARS.contains(&c)) {
            return forbidden("one of < > : \" | ? *");
        }
        if raw.starts_with('.') {
            return Err(NameError::Hidden(shown()));
        }
        if raw.starts_with(char::is_whitespace) || raw.ends_with(char::is_whitespace) {
            return Err(NameError::EdgeWhitespace(raw.to_owned()));
        }
        let format = ImageFormat::from_filename(raw).ok_or_else(|| NameError::Extension(raw.to_owned()))?;
        if raw.len() == format.extension().len() + 1 {
            return Err(NameError::Extension(raw.to_owned()));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn format(&self) -> ImageFormat {
        ImageFormat::from_filename(&self.0).expect("validated on parse")
    }

    /// The display name: the filename without its extension.
    pub fn stem(&self) -> &str {
        self.0.rsplit_once('.').map(|(stem, _)| stem).unwrap_or(&self.0)
    }
}

impl fmt::Display for ImageFileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_image_names() {
        for ok in ["ubuntu-24.04.iso", "Win11_23H2_English_x64.ISO", "disk.img", "appliance.ova", "ñandú 2.iso"] {
            let n = ImageFileName::parse(ok).unwrap();
            assert_eq!(n.as_str(), ok);
        }
        assert_eq!(
            ImageFileName::parse("debian-12.5.0-amd64-netinst.iso").unwrap().stem(),
            "debian-12.5.0-amd64-netinst"
        );
    }

    #[test]
    fn refuses_hostile_names() {
        for bad in [
            "",
            "../etc/passwd.iso",
            "a/b.iso",
            "a\\b.iso",
            "..iso",
            "x..iso",
            ".hidden.iso",
            "nul\0.iso",
            "line\nbreak.iso",
            "tab\t.iso",
            "notes.txt",
            "iso",
            ".iso",
            "a:b.iso",
            "a|b.iso",
            "a*.iso",
            " x.iso",
            "x.iso ",
            "/abs.iso",
            "C:\\x.iso",
        ] {
            assert!(ImageFileName::parse(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(ImageFileName::parse(&format!("{}.iso", "a".repeat(252))).is_err());
        assert!(ImageFileName::parse(&format!("{}.iso", "a".repeat(251))).is_ok());
    }
}
