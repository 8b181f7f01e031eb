//! What is inside an image, as the node read it from the content: where its OS fields came from, how it
//! boots, and for an OVA what its descriptor says. Plain serde, like every wire type; `null` when unknown.

use serde::{Deserialize, Serialize};

/// Where an image's OS fields came from. Content beats the filename; a person's correction beats both
/// and is never overwritten by a later detection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OsSource {
    /// The ISO's volume descriptors, or the OVA's OVF descriptor.
    Content,
    /// The filename's guess (nothing in the content said more).
    Filename,
    /// Set by an operator (`PATCH /api/v1/images/{id}`).
    User,
}

impl OsSource {
    pub fn as_str(self) -> &'static str {
        match self {
            OsSource::Content => "content",
            OsSource::Filename => "filename",
            OsSource::User => "user",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [OsSource::Content, OsSource::Filename, OsSource::User].into_iter().find(|o| o.as_str() == s)
    }
}

/// How an ISO boots: the platforms its El Torito catalogue has entries for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct BootModes {
    pub bios: bool,
    pub uefi: bool,
}

/// A VM's firmware; also what an OVA's descriptor asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Firmware {
    #[default]
    Bios,
    Uefi,
}

impl Firmware {
    pub fn as_str(self) -> &'static str {
        match self {
            Firmware::Bios => "bios",
            Firmware::Uefi => "uefi",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Firmware::Bios, Firmware::Uefi].into_iter().find(|f| f.as_str() == s)
    }

    /// Whether an ISO with these boot entries starts under this firmware (unknown entries: assume yes).
    pub fn boots(self, modes: Option<BootModes>) -> bool {
        modes.is_none_or(|m| match self {
            Firmware::Bios => m.bios,
            Firmware::Uefi => m.uefi,
        })
    }
}

/// Whether an OVA's `.mf` manifest matched its members.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ManifestState {
    /// Every member listed, every digest right.
    Verified,
    /// A digest is wrong, a member is missing or unlisted, or the manifest cannot be read
    /// (`detection_error` says which).
    Mismatch,
    /// The OVA carries no manifest.
    Absent,
}

/// One virtual disk an OVA's descriptor declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OvaDisk {
    pub capacity_bytes: u64,
}

/// What an OVA's OVF descriptor says of the VM it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OvaInfo {
    /// The guest OS as the descriptor names it (its description, or the OS type's name).
    pub os: Option<String>,
    pub vcpus: Option<u32>,
    pub memory_mib: Option<u64>,
    pub disks: Vec<OvaDisk>,
    pub nics: Option<u32>,
    pub firmware: Option<Firmware>,
    pub manifest: ManifestState,
}
