//! Turning fixed-width descriptor fields into text that is safe to store and show.
//!
//! A volume id is whatever bytes the disc's author wrote: padding, NULs, Latin-1, escape sequences.
//! Nothing raw passes through: control characters and bytes that are not UTF-8 become U+FFFD, and the
//! caller is told so it can say so in the probe's `error`.

/// A decoded field: its text (trimmed, `None` when blank) and whether anything had to be replaced.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(super) struct Field {
    pub text: Option<String>,
    pub replaced: bool,
}

/// Decodes a single-byte field (ISO 9660 a-/d-characters, in practice ASCII or UTF-8).
pub(super) fn byte_field(raw: &[u8]) -> Field {
    let decoded = String::from_utf8_lossy(raw);
    clean(decoded.chars(), matches!(decoded, std::borrow::Cow::Owned(_)))
}

/// Decodes a UCS-2 big-endian field (Joliet). An odd trailing byte is padding and is dropped.
pub(super) fn ucs2_field(raw: &[u8]) -> Field {
    let units = raw.chunks_exact(2).map(|pair| u16::from_be_bytes([pair[0], pair[1]]));
    let mut replaced = false;
    let chars: Vec<char> = char::decode_utf16(units)
        .map(|c| {
            c.unwrap_or_else(|_| {
                replaced = true;
                char::REPLACEMENT_CHARACTER
            })
        })
        .collect();
    clean(chars.into_iter(), replaced)
}

/// Decodes an OSTA CS0 "dstring" (UDF): a compression id byte (8 = one byte per character, 16 = UCS-2
/// big-endian), the characters, and the used length in the last byte.
pub(super) fn dstring_field(raw: &[u8]) -> Field {
    let Some((&used, body)) = raw.split_last() else { return Field::default() };
    let used = usize::from(used).min(body.len());
    match body.get(..used) {
        Some([8, chars @ ..]) => {
            // Compression id 8 is Latin-1: every byte is its own code point.
            clean(chars.iter().map(|&b| char::from(b)), false)
        }
        Some([16, chars @ ..]) => ucs2_field(chars),
        _ => Field::default(),
    }
}

/// Free text from a parsed document (an OVF description): the same rules, with a length cap so a
/// hostile descriptor cannot put megabytes into a catalogue row.
pub(super) fn free_text(text: &str, max_chars: usize) -> Field {
    let mut field = clean(text.chars().map(|c| if c == '\n' || c == '\t' { ' ' } else { c }), false);
    if let Some(t) = &mut field.text
        && let Some((cut, _)) = t.char_indices().nth(max_chars)
    {
        t.truncate(cut);
        t.push('…');
    }
    field
}

fn clean(chars: impl Iterator<Item = char>, mut replaced: bool) -> Field {
    let mut out = String::new();
    for c in chars {
        if c.is_control() {
            // NUL is the usual padding; anything else would be raw control bytes reaching a page.
            out.push(if c == '\0' { ' ' } else { char::REPLACEMENT_CHARACTER });
            replaced |= c != '\0';
        } else {
            out.push(c);
        }
    }
    let trimmed = out.trim();
    Field { text: (!trimmed.is_empty()).then(|| trimmed.to_owned()), replaced }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn padded(s: &[u8], width: usize, pad: u8) -> Vec<u8> {
        let mut v = s.to_vec();
        v.resize(width, pad);
        v
    }

    #[test]
    fn space_and_nul_padding_are_trimmed_without_complaint() {
        assert_eq!(
            byte_field(&padded(b"CCCOMA_X64FRE_EN-US_DV9", 32, b' ')).text.as_deref(),
            Some("CCCOMA_X64FRE_EN-US_DV9")
        );
        let f = byte_field(&padded(b"ARCH_202402", 32, 0));
        assert_eq!((f.text.as_deref(), f.replaced), (Some("ARCH_202402"), false));
    }

    #[test]
    fn a_blank_field_is_none() {
        assert_eq!(byte_field(&[b' '; 32]).text, None);
        assert_eq!(byte_field(&[0; 32]).text, None);
    }

    #[test]
    fn control_characters_never_pass_through_and_are_reported() {
        let f = byte_field(b"EVIL\x1b[31mRED\x07 ");
        assert_eq!(f.text.as_deref(), Some("EVIL\u{fffd}[31mRED\u{fffd}"));
        assert!(f.replaced);
    }

    #[test]
    fn invalid_utf8_is_replaced_and_reported() {
        let f = byte_field(b"VOL\xff\xfeID");
        assert!(f.replaced);
        assert!(f.text.unwrap().contains('\u{fffd}'));
    }

    #[test]
    fn joliet_ids_decode_from_ucs2_big_endian() {
        let raw: Vec<u8> = "Ubuntu 24.04 LTS".encode_utf16().flat_map(|u| u.to_be_bytes()).collect();
        assert_eq!(ucs2_field(&padded(&raw, 32, 0)).text.as_deref(), Some("Ubuntu 24.04 LTS"));
    }

    #[test]
    fn an_unpaired_surrogate_in_a_joliet_id_is_replaced() {
        let f = ucs2_field(&[0xD8, 0x00, 0x00, b'A']);
        assert_eq!((f.text.as_deref(), f.replaced), (Some("\u{fffd}A"), true));
    }

    #[test]
    fn udf_dstrings_use_their_length_byte_and_compression_id() {
        let mut raw = vec![0u8; 128];
        raw[0] = 8;
        raw[1..9].copy_from_slice(b"CCCOMA_X");
        raw[127] = 9;
        assert_eq!(dstring_field(&raw).text.as_deref(), Some("CCCOMA_X"));
        raw[0] = 16;
        raw[1..5].copy_from_slice(&[0, b'W', 0, b'i']);
        raw[127] = 5;
        assert_eq!(dstring_field(&raw).text.as_deref(), Some("Wi"));
        raw[0] = 3;
        assert_eq!(dstring_field(&raw).text, None);
    }

    #[test]
    fn free_text_is_capped() {
        let f = free_text(&"x".repeat(50), 10);
        assert_eq!(f.text.as_deref(), Some("xxxxxxxxxx…"));
        assert_eq!(free_text("  two\nlines ", 10).text.as_deref(), Some("two lines"));
    }
}
