//! An image's content fields as both roles' databases hold them: text columns, boot modes as two
//! nullable flags, an OVA's descriptor as the JSON the wire carries.

use app::model::{BootModes, IsoMetadata, OsSource, OvaInfo};

/// The columns, in the order [`ContentColumns`] reads and binds them; a macro, so that a role's column
/// list can `concat!` it.
#[macro_export]
macro_rules! content_columns {
    () => {
        "os_source, volume_id, arch, os_edition, boot_bios, boot_uefi, detection_error, ova_json"
    };
}

pub const CONTENT_COLUMNS: &str = content_columns!();

#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct ContentColumns {
    pub os_source: Option<String>,
    pub volume_id: Option<String>,
    pub arch: Option<String>,
    pub os_edition: Option<String>,
    pub boot_bios: Option<i64>,
    pub boot_uefi: Option<i64>,
    pub detection_error: Option<String>,
    pub ova_json: Option<String>,
}

impl ContentColumns {
    /// What an image's content fields are stored as.
    pub fn of(meta: &IsoMetadata) -> ContentColumns {
        ContentColumns {
            os_source: meta.os_source.map(|s| s.as_str().to_owned()),
            volume_id: meta.volume_id.clone(),
            arch: meta.arch.clone(),
            os_edition: meta.os_edition.clone(),
            boot_bios: meta.boot.map(|b| b.bios as i64),
            boot_uefi: meta.boot.map(|b| b.uefi as i64),
            detection_error: meta.detection_error.clone(),
            ova_json: meta.ova.as_ref().map(ova_json),
        }
    }

    /// Fills `meta`'s content fields; the error names the column that does not read back.
    pub fn apply(self, meta: &mut IsoMetadata) -> Result<(), &'static str> {
        meta.os_source = self.os_source.as_deref().map(|s| OsSource::parse(s).ok_or("os_source")).transpose()?;
        meta.volume_id = self.volume_id;
        meta.arch = self.arch;
        meta.os_edition = self.os_edition;
        meta.boot = match (self.boot_bios, self.boot_uefi) {
            (Some(bios), Some(uefi)) => Some(BootModes { bios: bios != 0, uefi: uefi != 0 }),
            _ => None,
        };
        meta.detection_error = self.detection_error;
        meta.ova = self.ova_json.as_deref().map(|j| serde_json::from_str(j).map_err(|_| "ova_json")).transpose()?;
        Ok(())
    }
}

/// An OVA's descriptor as its column holds it.
pub fn ova_json(ova: &OvaInfo) -> String {
    serde_json::to_string(ova).expect("an OVA's facts serialise")
}
