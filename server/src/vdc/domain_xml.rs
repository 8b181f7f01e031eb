//! The libvirt domain XML that would boot a VM definition from its ISO.

use app::model::{Firmware, VmDefinition};

/// A value XML 1.0 cannot carry: most control characters are not allowed in a document at all, escaped or
/// not, so a path holding one would make libvirt refuse the whole domain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("The {field} holds the character U+{code:04X}, which an XML document cannot carry; rename it first.", code = *.ch as u32)]
pub struct XmlError {
    pub field: &'static str,
    pub ch: char,
}

/// Whether XML 1.0 allows `c` in a document (its `Char` production).
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Escapes text for XML content and attribute values; refuses what XML cannot carry.
fn esc(field: &'static str, s: &str) -> Result<String, XmlError> {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\'' => out.push_str("&apos;"),
            '"' => out.push_str("&quot;"),
            c if !xml_char(c) => return Err(XmlError { field, ch: c }),
            c => out.push(c),
        }
    }
    Ok(out)
}

/// Debian's OVMF (package `ovmf`): the firmware code, and the template of a VM's own UEFI variables.
const OVMF_CODE: &str = "/usr/share/OVMF/OVMF_CODE_4M.fd";
const OVMF_VARS: &str = "/usr/share/OVMF/OVMF_VARS_4M.fd";

/// What a VM is installed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Media<'a> {
    /// An ISO at this path, attached as a read-only CD-ROM the VM boots from first.
    Cdrom(&'a str),
    /// An OVA at this path: its disks are imported into the VM's disk (e.g. `qemu-img convert`), which it
    /// boots from; the domain names the appliance in its metadata.
    Appliance(&'a str),
}

/// A q35 KVM domain: virtio disk in `disk_path` (qcow2), the ISO as a read-only SATA CD-ROM, booting from
/// the CD-ROM first, on the default network with a VNC console; under UEFI, OVMF with the VM's own
/// variable store.
pub fn render(vm: &VmDefinition, media: Media<'_>, disk_path: &str) -> Result<String, XmlError> {
    let (cdrom, boot_cdrom, appliance) = match media {
        Media::Cdrom(path) => (
            format!(
                "\n    <disk type='file' device='cdrom'>\n      <driver name='qemu' type='raw'/>\n      \
                 <source file='{}'/>\n      <target dev='sda' bus='sata'/>\n      <readonly/>\n    </disk>",
                esc("ISO's path", path)?
            ),
            "\n    <boot dev='cdrom'/>",
            String::new(),
        ),
        Media::Appliance(path) => (
            String::new(),
            "",
            format!("\n      <quantix:appliance>{}</quantix:appliance>", esc("appliance's path", path)?),
        ),
    };
    Ok(format!(
        r#"<domain type='kvm'>
  <name>{name}</name>
  <uuid>{id}</uuid>
  <metadata>
    <quantix:vm xmlns:quantix='urn:quantix:vm:1'>
      <quantix:node>{node}</quantix:node>
      <quantix:iso>{iso_id}</quantix:iso>{appliance}
    </quantix:vm>
  </metadata>
  <memory unit='MiB'>{mem}</memory>
  <currentMemory unit='MiB'>{mem}</currentMemory>
  <vcpu placement='static'>{vcpus}</vcpu>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>{loader}{boot_cdrom}
    <boot dev='hd'/>
  </os>
  <features>
    <acpi/>
    <apic/>
  </features>
  <cpu mode='host-passthrough'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='{disk}'/>
      <target dev='vda' bus='virtio'/>
    </disk>{cdrom}
    <interface type='network'>
      <source network='default'/>
      <model type='virtio'/>
    </interface>
    <graphics type='vnc' port='-1' autoport='yes'/>
    <console type='pty'/>
  </devices>
</domain>
"#,
        name = esc("VM name", &vm.name)?,
        id = vm.id,
        node = esc("node id", &vm.node_id)?,
        iso_id = vm.iso_id,
        mem = vm.memory_mib,
        vcpus = vm.vcpus,
        disk = esc("disk path", disk_path)?,
        loader = match vm.firmware {
            Firmware::Bios => String::new(),
            Firmware::Uefi => format!(
                "\n    <loader readonly='yes' type='pflash'>{OVMF_CODE}</loader>\n    \
                 <nvram template='{OVMF_VARS}'>/var/lib/libvirt/qemu/nvram/{}_VARS.fd</nvram>",
                esc("VM name", &vm.name)?
            ),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vm() -> VmDefinition {
        VmDefinition {
            id: uuid::Uuid::nil(),
            name: "web-01".into(),
            vcpus: 2,
            memory_mib: 2048,
            disk_gib: 20,
            disk_pool_id: "fast".parse().unwrap(),
            iso_id: uuid::Uuid::nil(),
            node_id: "hv1".parse().unwrap(),
            iso_filename: None,
            iso_path: None,
            created_at: 0,
            firmware: Firmware::Bios,
        }
    }

    #[test]
    fn well_formed_with_the_iso_as_a_cdrom() {
        let vm = vm();
        let xml =
            render(&vm, Media::Cdrom("/data/it's <odd> & \"quoted\".iso"), "/data/fast/vms/web-01.qcow2").unwrap();
        let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
        let cdrom = doc.descendants().find(|n| n.attribute("device") == Some("cdrom")).unwrap();
        let source = cdrom.children().find(|n| n.has_tag_name("source")).unwrap();
        assert_eq!(source.attribute("file"), Some("/data/it's <odd> & \"quoted\".iso"));
        assert!(cdrom.children().any(|n| n.has_tag_name("readonly")));
        assert_eq!(doc.descendants().find(|n| n.has_tag_name("name")).unwrap().text(), Some("web-01"));
        assert_eq!(doc.descendants().find(|n| n.has_tag_name("memory")).unwrap().text(), Some("2048"));
        let boots: Vec<_> =
            doc.descendants().filter(|n| n.has_tag_name("boot")).filter_map(|n| n.attribute("dev")).collect();
        assert_eq!(boots, ["cdrom", "hd"]);
    }

    #[test]
    fn what_xml_cannot_carry_is_refused_not_written() {
        let vm = vm();
        let e = render(&vm, Media::Cdrom("/data/\u{1}\u{1b}\u{7}.iso"), "/d.qcow2").unwrap_err();
        assert_eq!(e, XmlError { field: "ISO's path", ch: '\u{1}' });
        assert!(e.to_string().contains("U+0001"), "{e}");
        assert!(render(&vm, Media::Cdrom("/data/\u{FFFE}.iso"), "/d.qcow2").is_err());
        // Tabs, and every printable character, pass (escaped where XML needs it).
        let xml = render(&vm, Media::Cdrom("/data/tab\there & ünï.iso"), "/d.qcow2").unwrap();
        roxmltree::Document::parse(&xml).expect("well-formed XML");
    }

    #[test]
    fn a_uefi_vm_boots_ovmf_with_its_own_variables() {
        let bios = render(&vm(), Media::Cdrom("/d/x.iso"), "/d.qcow2").unwrap();
        assert!(!bios.contains("<loader"), "BIOS: SeaBIOS, libvirt's default");
        let uefi =
            render(&VmDefinition { firmware: Firmware::Uefi, ..vm() }, Media::Cdrom("/d/x.iso"), "/d.qcow2").unwrap();
        let doc = roxmltree::Document::parse(&uefi).expect("well-formed XML");
        let loader = doc.descendants().find(|n| n.has_tag_name("loader")).expect("a loader");
        assert_eq!((loader.text(), loader.attribute("type")), (Some(OVMF_CODE), Some("pflash")));
        let nvram = doc.descendants().find(|n| n.has_tag_name("nvram")).unwrap();
        assert_eq!(nvram.attribute("template"), Some(OVMF_VARS));
        assert!(nvram.text().unwrap().ends_with("web-01_VARS.fd"));
    }

    #[test]
    fn an_appliance_boots_its_imported_disk_and_is_named_not_attached() {
        let xml = render(&vm(), Media::Appliance("/data/iso/app.ova"), "/d.qcow2").unwrap();
        let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
        assert!(!doc.descendants().any(|n| n.attribute("device") == Some("cdrom")), "no CD-ROM");
        let boots: Vec<_> =
            doc.descendants().filter(|n| n.has_tag_name("boot")).filter_map(|n| n.attribute("dev")).collect();
        assert_eq!(boots, ["hd"]);
        assert!(xml.contains("<quantix:appliance>/data/iso/app.ova</quantix:appliance>"));
    }
}
