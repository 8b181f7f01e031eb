//! UDF's logical volume identifier, the name a UDF-only or bridge disc (every Windows installer) shows.
//!
//! Cheap by construction: the Anchor Volume Descriptor Pointer sits at sector 256 (ECMA-167 3/8.4.2.1)
//! and names the Main Volume Descriptor Sequence, of which we read at most `MAX_SEQUENCE_SECTORS`.

use super::iso9660::SECTOR;
use super::read_at::{Budgeted, ReadAt, ReadError};
use super::text::{self, Field};

const ANCHOR_SECTOR: u64 = 256;
const TAG_ANCHOR: u16 = 2;
const TAG_LOGICAL_VOLUME: u16 = 6;
const TAG_TERMINATING: u16 = 8;
/// A real sequence has a handful of descriptors; 16 sectors (32 KiB) is generous and bounded.
const MAX_SEQUENCE_SECTORS: u64 = 16;

/// The logical volume identifier, or `None` when the disc has no readable UDF anchor or sequence.
pub(super) fn logical_volume_id<R: ReadAt>(reader: &Budgeted<R>) -> Result<Option<Field>, ReadError> {
    let anchor = match reader.read_vec(ANCHOR_SECTOR * SECTOR, SECTOR as usize) {
        Ok(anchor) => anchor,
        Err(ReadError::PastEnd { .. }) => return Ok(None),
        Err(e) => return Err(e),
    };
    if tag_id(&anchor) != Some(TAG_ANCHOR) {
        return Ok(None);
    }
    let length = u64::from(le32(&anchor[16..20]));
    let location = u64::from(le32(&anchor[20..24]));
    let sectors = length.div_ceil(SECTOR).min(MAX_SEQUENCE_SECTORS);
    for n in 0..sectors {
        let sector = match reader.read_vec((location + n) * SECTOR, SECTOR as usize) {
            Ok(sector) => sector,
            Err(ReadError::PastEnd { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        match tag_id(&sector) {
            Some(TAG_LOGICAL_VOLUME) => return Ok(Some(text::dstring_field(&sector[84..212]))),
            Some(TAG_TERMINATING) | None => return Ok(None),
            Some(_) => {}
        }
    }
    Ok(None)
}

/// A descriptor tag's identifier, if its checksum (ECMA-167 3/7.2.3) says it is a tag at all.
fn tag_id(sector: &[u8]) -> Option<u16> {
    let tag = sector.get(..16)?;
    let sum = tag.iter().enumerate().filter(|&(i, _)| i != 4).fold(0u8, |s, (_, &b)| s.wrapping_add(b));
    (sum == tag[4]).then(|| u16::from_le_bytes([tag[0], tag[1]])).filter(|&id| id != 0)
}

fn le32(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_is_only_a_tag_when_its_checksum_holds() {
        let mut t = [0u8; 16];
        t[0] = 6;
        t[4] = 6;
        assert_eq!(tag_id(&t), Some(6));
        t[5] = 1;
        assert_eq!(tag_id(&t), None);
        assert_eq!(tag_id(&[0u8; 16]), None);
    }

    #[test]
    fn an_image_too_short_for_an_anchor_has_no_udf_name() {
        let data = vec![0u8; 100 * SECTOR as usize];
        let reader = Budgeted::new(data.as_slice(), 1 << 20);
        assert_eq!(logical_volume_id(&reader), Ok(None));
    }
}
