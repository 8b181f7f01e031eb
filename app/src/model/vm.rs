//! VM definitions, as the create wizard makes them.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Firmware, IsoMetadata, NodeId, PoolId};

/// Limits the API enforces, shown by the wizard too.
pub mod limits {
    pub const VCPUS: (u32, u32) = (1, 64);
    pub const MEMORY_MIB: (u64, u64) = (256, 1024 * 1024);
    pub const DISK_GIB: (u64, u64) = (1, 16 * 1024);
    pub const NAME_MAX: usize = 63;
}

/// `POST /api/v1/vms` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CreateVmRequest {
    pub name: String,
    pub vcpus: u32,
    pub memory_mib: u64,
    pub disk_gib: u64,
    /// The installation ISO; the VM is placed on the node that holds it.
    pub iso_id: Uuid,
    /// The pool of that node for the VM's disk; the node's pool with the most free space when absent.
    #[serde(default)]
    pub disk_pool_id: Option<PoolId>,
    /// BIOS when absent.
    #[serde(default)]
    pub firmware: Option<Firmware>,
}

impl CreateVmRequest {
    /// Checks what needs no catalogue: the name and the resources. The message is a sentence to show.
    pub fn check(&self) -> Result<(), String> {
        let name_ok = !self.name.is_empty()
            && self.name.len() <= limits::NAME_MAX
            && self.name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            && !self.name.starts_with(['-', '.']);
        if !name_ok {
            return Err(format!(
                "\"{}\" is not a usable VM name: use 1 to {} letters, digits, '-', '_' or '.', not starting with '-' or '.'.",
                self.name,
                limits::NAME_MAX
            ));
        }
        let (lo, hi) = limits::VCPUS;
        if !(lo..=hi).contains(&self.vcpus) {
            return Err(format!("A VM has between {lo} and {hi} vCPUs, not {}.", self.vcpus));
        }
        let (lo, hi) = limits::MEMORY_MIB;
        if !(lo..=hi).contains(&self.memory_mib) {
            return Err(format!("Memory must be between {lo} MiB and {hi} MiB, not {} MiB.", self.memory_mib));
        }
        let (lo, hi) = limits::DISK_GIB;
        if !(lo..=hi).contains(&self.disk_gib) {
            return Err(format!("The disk must be between {lo} GiB and {hi} GiB, not {} GiB.", self.disk_gib));
        }
        Ok(())
    }
}

/// A VM definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct VmDefinition {
    pub id: Uuid,
    pub name: String,
    pub vcpus: u32,
    pub memory_mib: u64,
    pub disk_gib: u64,
    pub disk_pool_id: PoolId,
    pub iso_id: Uuid,
    /// The node holding the ISO: where the VM runs.
    pub node_id: NodeId,
    /// The ISO's file name and path on its node, as the catalogue has them now (`None` if it is gone).
    pub iso_filename: Option<String>,
    pub iso_path: Option<String>,
    pub created_at: i64,
    #[serde(default)]
    pub firmware: Firmware,
}

/// What the wizard proposes for a VM installed from `iso`: the firmware (with why, when it is not the
/// obvious BIOS), and an OVA's hardware.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Proposal {
    pub firmware: Firmware,
    pub why: Option<&'static str>,
    pub vcpus: Option<u32>,
    pub memory_mib: Option<u64>,
    pub disk_gib: Option<u64>,
}

impl Proposal {
    pub fn for_image(iso: &IsoMetadata) -> Proposal {
        let windows_11 = iso.os_distribution.as_deref() == Some("windows")
            && iso.os_version.as_deref().is_some_and(|v| v.contains("11"));
        let ova = iso.ova.as_ref();
        let (firmware, why) = match (iso.boot, ova.and_then(|o| o.firmware)) {
            (_, Some(f)) => (f, Some("The appliance's descriptor asks for this firmware.")),
            (Some(b), None) if b.uefi && !b.bios => (Firmware::Uefi, Some("This ISO boots only under UEFI.")),
            _ if windows_11 => (
                Firmware::Uefi,
                Some("Windows 11 requires UEFI (Windows 10 installs under it too; their discs look the same)."),
            ),
            _ => (Firmware::Bios, None),
        };
        Proposal {
            firmware,
            why,
            vcpus: ova.and_then(|o| o.vcpus).map(|v| v.clamp(limits::VCPUS.0, limits::VCPUS.1)),
            memory_mib: ova.and_then(|o| o.memory_mib).map(|m| m.clamp(limits::MEMORY_MIB.0, limits::MEMORY_MIB.1)),
            disk_gib: ova
                .and_then(|o| o.disks.first())
                .map(|d| d.capacity_bytes.div_ceil(1 << 30).clamp(limits::DISK_GIB.0, limits::DISK_GIB.1)),
        }
    }
}

/// Why `firmware` cannot start `iso`, if it cannot.
pub fn firmware_problem(firmware: Firmware, iso: &IsoMetadata) -> Option<&'static str> {
    (!firmware.boots(iso.boot)).then_some(match firmware {
        Firmware::Bios => "This ISO has no BIOS boot entry: a VM with BIOS firmware cannot start from it.",
        Firmware::Uefi => "This ISO has no UEFI boot entry: a VM with UEFI firmware cannot start from it.",
    })
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct VmList {
    pub vms: Vec<VmDefinition>,
}
