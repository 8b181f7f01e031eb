//! The names in an ISO 9660 directory (ECMA-119 §9.1), preferring Rock Ridge's real names (SUSP "NM",
//! IEEE P1282 §4.1.4) over the 8.3-style identifiers mastering tools derive from them.
//!
//! A few products are only recognisable by a file at the root (TrueNAS SCALE's volume id is xorriso's
//! default, `ISOIMAGE`), so the probe lists the root directory — one extent, bounded by the caller.

use super::text;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Entry {
    pub name: String,
    pub extent: u32,
    pub size: u32,
    pub is_dir: bool,
}

const FLAG_DIRECTORY: u8 = 0x02;

/// Lists up to `max` entries of a directory extent, skipping "." and "..".
pub(super) fn entries(dir: &[u8], sector: usize, max: usize) -> Vec<Entry> {
    let mut out = Vec::new();
    let mut skip = 0usize;
    let mut pos = 0usize;
    while pos < dir.len() && out.len() < max {
        let len = usize::from(dir[pos]);
        if len == 0 {
            // Records never span sectors: a zero length byte pads to the next one.
            pos = (pos / sector + 1) * sector;
            continue;
        }
        let Some(record) = dir.get(pos..pos + len).filter(|r| r.len() >= 34) else { break };
        pos += len;
        let id_len = usize::from(record[32]);
        let Some(id) = record.get(33..33 + id_len) else { continue };
        let system_use = record.get(33 + id_len + usize::from(id_len.is_multiple_of(2))..).unwrap_or(&[]);
        if id == [0] {
            // The "." record of a Rock Ridge tree carries SP, which says how many bytes precede SUSP.
            skip = sharing_protocol_skip(system_use).unwrap_or(0);
            continue;
        }
        if id == [1] {
            continue;
        }
        let name = system_use.get(skip..).and_then(rock_ridge_name).unwrap_or_else(|| iso_name(id));
        let Some(name) = text::byte_field(name.as_bytes()).text else { continue };
        out.push(Entry {
            name,
            extent: u32::from_le_bytes([record[2], record[3], record[4], record[5]]),
            size: u32::from_le_bytes([record[10], record[11], record[12], record[13]]),
            is_dir: record[25] & FLAG_DIRECTORY != 0,
        });
    }
    out
}

/// "FILE.TXT;1" → "FILE.TXT"; "README." → "README".
fn iso_name(id: &[u8]) -> String {
    let id = String::from_utf8_lossy(id);
    let id = id.split_once(';').map_or(&*id, |(name, _)| name);
    id.strip_suffix('.').unwrap_or(id).to_owned()
}

fn sharing_protocol_skip(system_use: &[u8]) -> Option<usize> {
    match system_use.get(..7)? {
        [b'S', b'P', _, _, 0xBE, 0xEF, skip] => Some(usize::from(*skip)),
        _ => None,
    }
}

/// The concatenated NM entries of a record's system use area, if it has any.
fn rock_ridge_name(mut area: &[u8]) -> Option<String> {
    let mut name = Vec::new();
    let mut found = false;
    while area.len() >= 4 {
        let len = usize::from(area[2]);
        if len < 4 || len > area.len() {
            break;
        }
        let (entry, rest) = area.split_at(len);
        if &entry[..2] == b"NM" && len >= 5 {
            // Flags: 2 and 4 mean "." and ".."; neither is a name we want.
            if entry[4] & 0x06 != 0 {
                return None;
            }
            name.extend_from_slice(&entry[5..]);
            found = true;
        }
        if &entry[..2] == b"ST" {
            break;
        }
        area = rest;
    }
    found.then(|| String::from_utf8_lossy(&name).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &[u8], flags: u8, system_use: &[u8]) -> Vec<u8> {
        let pad = usize::from(id.len().is_multiple_of(2));
        let len = 33 + id.len() + pad + system_use.len();
        let mut r = vec![0u8; len];
        r[0] = len as u8;
        r[2..6].copy_from_slice(&40u32.to_le_bytes());
        r[10..14].copy_from_slice(&123u32.to_le_bytes());
        r[25] = flags;
        r[32] = id.len() as u8;
        r[33..33 + id.len()].copy_from_slice(id);
        r[33 + id.len() + pad..].copy_from_slice(system_use);
        r
    }

    fn nm(name: &str) -> Vec<u8> {
        [&[b'N', b'M', 5 + name.len() as u8, 1, 0][..], name.as_bytes()].concat()
    }

    #[test]
    fn iso_names_lose_their_version_and_trailing_dot() {
        let dir =
            [record(&[0], 2, &[]), record(&[1], 2, &[]), record(b"README.TXT;1", 0, &[]), record(b"BOOT.", 2, &[])]
                .concat();
        let names: Vec<_> = entries(&dir, 2048, 10).into_iter().map(|e| (e.name, e.is_dir)).collect();
        assert_eq!(names, [("README.TXT".to_owned(), false), ("BOOT".to_owned(), true)]);
    }

    #[test]
    fn rock_ridge_names_win_over_iso_names() {
        let sp = [b'S', b'P', 7, 1, 0xBE, 0xEF, 0];
        let dir = [
            record(&[0], 2, &sp),
            record(b"_CD_INFO.;1", 0, &nm(".cd-info")),
            record(b"TRUENAS_.UPD;1", 0, &nm("TrueNAS-SCALE.update")),
        ]
        .concat();
        let e = entries(&dir, 2048, 10);
        assert_eq!(e[0].name, ".cd-info");
        assert_eq!((e[0].extent, e[0].size), (40, 123));
        assert_eq!(e[1].name, "TrueNAS-SCALE.update");
    }

    #[test]
    fn a_zero_length_byte_pads_to_the_next_sector() {
        let mut dir = record(b"A;1", 0, &[]);
        dir.resize(2048, 0);
        dir.extend(record(b"B;1", 0, &[]));
        let names: Vec<_> = entries(&dir, 2048, 10).into_iter().map(|e| e.name).collect();
        assert_eq!(names, ["A", "B"]);
    }

    #[test]
    fn garbage_records_end_the_listing_without_panicking() {
        assert!(entries(&[40, 0, 0], 2048, 10).is_empty());
        assert!(entries(&[255; 300], 2048, 10).len() <= 10);
        let bad_su = record(b"X;1", 0, &[b'N', b'M', 200, 1, 0]);
        assert_eq!(entries(&bad_su, 2048, 10)[0].name, "X");
    }

    /// Found by `fuzz::any_directory_records_never_panic_the_directory_reader`: an SP entry one byte
    /// short of its skip count was indexed past its end.
    #[test]
    fn regression_a_sharing_protocol_entry_cut_before_its_skip_byte_does_not_panic() {
        let mut dir = vec![0u8; 40];
        dir[0] = 40;
        dir[32] = 1;
        dir[34..40].copy_from_slice(&[b'S', b'P', 6, 1, 0xBE, 0xEF]);
        assert!(entries(&dir, 2048, 10).is_empty());
    }

    #[test]
    fn the_listing_stops_at_its_cap() {
        let dir: Vec<u8> = (0..20).flat_map(|i| record(format!("F{i};1").as_bytes(), 0, &[])).collect();
        assert_eq!(entries(&dir, 2048, 5).len(), 5);
    }
}
