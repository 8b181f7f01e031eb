//! The OVF descriptor (DMTF DSP0243, envelope 1.x and 2.0): OS, CPUs, memory, disks, NICs, firmware.
//!
//! Parsed with roxmltree, which refuses any DTD by default (so no entity can be declared, and billion
//! laughs cannot start) and is given a node limit. The descriptor is only read: `href`s are checked and
//! reported, never followed — nothing in this module opens files or URLs.

use roxmltree::{Document, Error as XmlError, Node, ParsingOptions};

use super::super::OsInfo;
use super::super::text;
use super::Firmware;
use super::os_types;

const OVF_1: &str = "http://schemas.dmtf.org/ovf/envelope/1";
const OVF_2: &str = "http://schemas.dmtf.org/ovf/envelope/2";
const VMW: &str = "http://www.vmware.com/schema/ovf";
/// A real descriptor has hundreds of nodes; this bounds the parse of a hostile 4 MiB one.
const NODES_LIMIT: u32 = 200_000;
const MAX_DESCRIPTION: usize = 1024;

const RESOURCE_CPU: &str = "3";
const RESOURCE_MEMORY: &str = "4";
const RESOURCE_ETHERNET: &str = "10";

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Descriptor {
    pub os: Option<OsInfo>,
    pub cim_os_id: Option<u16>,
    pub vmw_os_type: Option<String>,
    pub os_description: Option<String>,
    pub vcpus: Option<u32>,
    pub memory_mib: Option<u64>,
    pub disks: Vec<u64>,
    pub nics: u32,
    pub firmware: Option<Firmware>,
    /// `href`s in References that point outside the archive (absolute, `..`, URLs).
    pub external_refs: Vec<String>,
    /// Things that were unreadable but did not stop the parse.
    pub notes: Vec<String>,
}

pub(super) fn parse(bytes: &[u8]) -> Result<Descriptor, String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let xml = std::str::from_utf8(bytes).map_err(|_| "the OVF descriptor is not UTF-8 text".to_owned())?;
    let options = ParsingOptions { allow_dtd: false, nodes_limit: NODES_LIMIT };
    let doc = Document::parse_with_options(xml, options).map_err(|e| match e {
        XmlError::DtdDetected => "the OVF descriptor declares a DTD, which is refused (entity expansion)".to_owned(),
        XmlError::UnknownEntityReference(..) => "the OVF descriptor refers to an undeclared XML entity".to_owned(),
        XmlError::NodesLimitReached => "the OVF descriptor has too many XML nodes".to_owned(),
        e => format!("the OVF descriptor is not well-formed XML: {e}"),
    })?;
    let root = doc.root_element();
    let ns = root.tag_name().namespace().filter(|ns| *ns == OVF_1 || *ns == OVF_2);
    let (Some(ns), "Envelope") = (ns, root.tag_name().name()) else {
        return Err(format!(
            "the descriptor is not an OVF 1.x or 2.0 envelope (its root is <{}>)",
            root.tag_name().name()
        ));
    };
    let ovf = Ovf { ns };
    let mut found = Descriptor::default();
    ovf.references(root, &mut found);
    ovf.disks(root, &mut found);
    let system = root.descendants().find(|n| ovf.is(n, "VirtualSystem"));
    if let Some(system) = system {
        if let Some(os) = system.children().find(|n| ovf.is(n, "OperatingSystemSection")) {
            ovf.operating_system(os, &mut found);
        }
        if let Some(hardware) = system.children().find(|n| ovf.is(n, "VirtualHardwareSection")) {
            let configuration = ovf.default_configuration(root);
            ovf.hardware(hardware, configuration.as_deref(), &mut found);
        }
    }
    Ok(found)
}

struct Ovf<'a> {
    ns: &'a str,
}

impl Ovf<'_> {
    fn is(&self, node: &Node, name: &str) -> bool {
        node.is_element() && node.tag_name().name() == name && node.tag_name().namespace() == Some(self.ns)
    }

    /// `ovf:name`, or a bare `name` (some writers drop the prefix on attributes).
    fn attr<'n>(&self, node: &Node<'n, '_>, name: &str) -> Option<&'n str> {
        node.attribute((self.ns, name)).or_else(|| node.attribute(name))
    }

    fn references(&self, root: Node, found: &mut Descriptor) {
        let files = root.children().filter(|n| self.is(n, "References")).flat_map(|r| r.children());
        for file in files.filter(|n| self.is(n, "File")) {
            if let Some(href) = self.attr(&file, "href")
                && leaves_the_archive(href)
            {
                found.external_refs.push(text::free_text(href, 256).text.unwrap_or_default());
            }
        }
    }

    fn disks(&self, root: Node, found: &mut Descriptor) {
        let disks = root.children().filter(|n| self.is(n, "DiskSection")).flat_map(|s| s.children());
        for disk in disks.filter(|n| self.is(n, "Disk")) {
            let capacity = self.attr(&disk, "capacity").and_then(|c| c.trim().parse::<u64>().ok());
            let units = unit_bytes(self.attr(&disk, "capacityAllocationUnits"), 1);
            match capacity.zip(units).and_then(|(c, u)| c.checked_mul(u)) {
                Some(bytes) => found.disks.push(bytes),
                None => found.notes.push("a disk's capacity in the OVF descriptor is unreadable".to_owned()),
            }
        }
    }

    fn operating_system(&self, section: Node, found: &mut Descriptor) {
        found.cim_os_id = self.attr(&section, "id").and_then(|id| id.trim().parse().ok());
        found.vmw_os_type = section.attribute((VMW, "osType")).and_then(|t| text::free_text(t, 64).text);
        let description = section
            .children()
            .find(|n| self.is(n, "Description"))
            .and_then(|d| d.text())
            .map(|d| text::free_text(d, MAX_DESCRIPTION));
        if let Some(field) = description {
            if field.replaced {
                found.notes.push("the OS description contained control characters (replaced)".to_owned());
            }
            found.os_description = field.text;
        }
        // VMware's guest id is more specific than CIM's numbers (which stop at Windows 10 and lump
        // most Linux distributions together), so it wins when both are known.
        found.os = found
            .vmw_os_type
            .as_deref()
            .and_then(os_types::from_vmware)
            .or_else(|| found.cim_os_id.and_then(os_types::from_cim));
    }

    /// The deployment configuration items apply to: the default one, else the first listed.
    fn default_configuration(&self, root: Node) -> Option<String> {
        let configs: Vec<Node> = root
            .children()
            .filter(|n| self.is(n, "DeploymentOptionSection"))
            .flat_map(|s| s.children())
            .filter(|n| self.is(n, "Configuration"))
            .collect();
        let default = configs.iter().find(|c| self.attr(c, "default").is_some_and(|d| d.trim() == "true"));
        default.or(configs.first()).and_then(|c| self.attr(c, "id")).map(str::to_owned)
    }

    fn hardware(&self, section: Node, configuration: Option<&str>, found: &mut Descriptor) {
        let applies = |item: &Node| match (self.attr(item, "configuration"), configuration) {
            (Some(list), Some(config)) => list.split_whitespace().any(|c| c == config),
            _ => true,
        };
        let items = section
            .children()
            .filter(|n| n.is_element() && matches!(n.tag_name().name(), "Item" | "EthernetPortItem" | "StorageItem"))
            .filter(applies);
        for item in items {
            let field = |name: &str| {
                item.children()
                    .find(|c| c.is_element() && c.tag_name().name() == name)
                    .and_then(|c| c.text())
                    .map(str::trim)
            };
            let quantity = field("VirtualQuantity").and_then(|q| q.parse::<u64>().ok());
            match field("ResourceType") {
                Some(RESOURCE_CPU) if found.vcpus.is_none() => {
                    found.vcpus = quantity.and_then(|q| u32::try_from(q).ok());
                }
                Some(RESOURCE_MEMORY) if found.memory_mib.is_none() => {
                    // VMware always states the units; without them CIM's convention for memory is MiB.
                    let bytes =
                        quantity.zip(unit_bytes(field("AllocationUnits"), 1 << 20)).and_then(|(q, u)| q.checked_mul(u));
                    found.memory_mib = bytes.map(|b| b >> 20);
                    if bytes.is_none() {
                        found.notes.push("the memory size in the OVF descriptor is unreadable".to_owned());
                    }
                }
                Some(RESOURCE_ETHERNET) => found.nics += 1,
                _ => {}
            }
        }
        let firmware = section
            .children()
            .filter(|n| n.is_element() && n.tag_name().namespace() == Some(VMW))
            .filter(|n| matches!(n.tag_name().name(), "Config" | "ExtraConfig"))
            .find(|n| n.attribute((VMW, "key")) == Some("firmware"))
            .and_then(|n| n.attribute((VMW, "value")));
        found.firmware = match firmware.map(str::to_ascii_lowercase).as_deref() {
            Some("efi") => Some(Firmware::Efi),
            Some("bios") => Some(Firmware::Bios),
            _ => None,
        };
    }
}

/// Bytes per unit of a CIM programmatic unit (DSP0004 annex C): `byte * 2^20`, `byte*1024`, or the
/// older names `KiloBytes`…`TeraBytes`, which OVF writers use for powers of 1024.
fn unit_bytes(units: Option<&str>, default: u64) -> Option<u64> {
    let Some(units) = units.map(|u| u.replace(char::is_whitespace, "").to_ascii_lowercase()) else {
        return Some(default);
    };
    if units.is_empty() {
        return Some(default);
    }
    let named = [("kilobytes", 10), ("megabytes", 20), ("gigabytes", 30), ("terabytes", 40)];
    if let Some(&(_, shift)) = named.iter().find(|(name, _)| *name == units) {
        return Some(1 << shift);
    }
    let mut factors = units.split('*');
    if !matches!(factors.next(), Some("byte" | "bytes")) {
        return None;
    }
    factors.try_fold(1u64, |acc, factor| {
        let value = match factor.split_once('^') {
            Some((base, exp)) => base.parse::<u64>().ok()?.checked_pow(exp.parse().ok()?)?,
            None => factor.parse().ok()?,
        };
        acc.checked_mul(value)
    })
}

/// An `href` that does not name a member of this archive: a URL, an absolute path, or one with `..`.
fn leaves_the_archive(href: &str) -> bool {
    let scheme = href
        .split_once(':')
        .is_some_and(|(s, _)| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"+.-".contains(&b)));
    scheme || href.starts_with(['/', '\\']) || href.split(['/', '\\']).any(|part| part == "..")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_parse_in_every_spelling_writers_use() {
        assert_eq!(unit_bytes(Some("byte * 2^20"), 0), Some(1 << 20));
        assert_eq!(unit_bytes(Some("byte*2^30"), 0), Some(1 << 30));
        assert_eq!(unit_bytes(Some("MegaBytes"), 0), Some(1 << 20));
        assert_eq!(unit_bytes(Some("GigaBytes"), 0), Some(1 << 30));
        assert_eq!(unit_bytes(Some("byte * 1024"), 0), Some(1024));
        assert_eq!(unit_bytes(Some("byte * 10^6"), 0), Some(1_000_000));
        assert_eq!(unit_bytes(None, 7), Some(7));
        assert_eq!(unit_bytes(Some("furlongs"), 0), None);
        assert_eq!(unit_bytes(Some("byte * 2^99"), 0), None);
    }

    #[test]
    fn hrefs_that_leave_the_archive_are_recognised() {
        for bad in [
            "../etc/passwd",
            "/etc/passwd",
            "http://example.com/disk.vmdk",
            "file:///etc/shadow",
            "a/../../b",
            "C:\\x",
            "\\\\server\\share",
        ] {
            assert!(leaves_the_archive(bad), "{bad}");
        }
        for good in ["disk1.vmdk", "vm-disk1.vmdk", "sub/disk.vmdk", "disk..vmdk"] {
            assert!(!leaves_the_archive(good), "{good}");
        }
    }
}
