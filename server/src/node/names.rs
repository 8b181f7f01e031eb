//! Image filenames: one plain name ending `.iso`, `.img` or `.ova`, from a request or found on disk.

use std::fmt;

use app::model::{FORBIDDEN_CHARS, ImageFormat, text};
use unicode_normalization::UnicodeNormalization;

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
    #[error("The file name \"{name}\" contains {what}, which hides what the name says; remove it.")]
    Invisible { name: String, what: &'static str },
    #[error("The file name \"{0}\" starts with a dot; hidden files are not accepted.")]
    Hidden(String),
    #[error("The file name \"{0}\" starts or ends with a space.")]
    EdgeWhitespace(String),
    #[error("The file \"{0}\" is not an image: the name must end in .iso, .img or .ova.")]
    Extension(String),
}

impl ImageFileName {
    /// A name from a request, in Unicode NFC: `café.iso` typed on one system and on another is one name.
    pub fn parse(raw: &str) -> Result<Self, NameError> {
        let nfc: String = raw.nfc().collect();
        Self::on_disk(&nfc)
    }

    /// A name as a file in a pool has it, byte for byte (a name written in NFD stays NFD: it is the
    /// file's), with the same rules as a request's.
    pub fn on_disk(raw: &str) -> Result<Self, NameError> {
        let shown = || text::shown(raw);
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
        if let Some((c, why)) = text::find_hidden(raw) {
            if c.is_control() {
                return forbidden(why);
            }
            return Err(NameError::Invisible { name: shown(), what: why });
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

    /// The name in Unicode NFC: two names with the same key are one name.
    pub fn key(&self) -> String {
        self.0.nfc().collect()
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
        for hidden in ["evil\u{202E}osi.exe.iso", "a\u{200B}b.iso", "\u{FEFF}x.iso", "x\u{2066}y.iso"] {
            let e = ImageFileName::parse(hidden).unwrap_err();
            assert!(matches!(e, NameError::Invisible { .. }), "{hidden:?}: {e}");
        }
    }

    #[test]
    fn names_from_requests_are_nfc_and_names_on_disk_stay_as_they_are() {
        let (nfc, nfd) = ("caf\u{e9}.iso", "cafe\u{301}.iso");
        assert_eq!(ImageFileName::parse(nfd).unwrap().as_str(), nfc);
        assert_eq!(ImageFileName::parse(nfc).unwrap().as_str(), nfc);
        let on_disk = ImageFileName::on_disk(nfd).unwrap();
        assert_eq!(on_disk.as_str(), nfd);
        assert_eq!(on_disk.key(), nfc);
        assert!(ImageFileName::parse(&format!("{}.iso", "a".repeat(251))).is_ok());
    }
}
