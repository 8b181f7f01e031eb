//! The libvirt domain XML that would boot a VM definition from its ISO.

use app::model::VmDefinition;

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

/// A q35 KVM domain: virtio disk in `disk_path` (qcow2), the ISO as a read-only SATA CD-ROM, booting from
/// the CD-ROM first, on the default network with a VNC console.
pub fn render(vm: &VmDefinition, iso_path: &str, disk_path: &str) -> Result<String, XmlError> {
    Ok(format!(
        r#"<domain type='kvm'>
  <name>{name}</name>
  <uuid>{id}</uuid>
  <metadata>
    <quantix:vm xmlns:quantix='urn:quantix:vm:1'>
      <quantix:node>{node}</quantix:node>
      <quantix:iso>{iso_id}</quantix:iso>
    </quantix:vm>
  </metadata>
  <memory unit='MiB'>{mem}</memory>
  <currentMemory unit='MiB'>{mem}</currentMemory>
  <vcpu placement='static'>{vcpus}</vcpu>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <boot dev='cdrom'/>
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
    </disk>
    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <source file='{iso}'/>
      <target dev='sda' bus='sata'/>
      <readonly/>
    </disk>
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
        iso = esc("ISO's path", iso_path)?,
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
        }
    }

    #[test]
    fn well_formed_with_the_iso_as_a_cdrom() {
        let vm = vm();
        let xml = render(&vm, "/data/it's <odd> & \"quoted\".iso", "/data/fast/vms/web-01.qcow2").unwrap();
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
        let e = render(&vm, "/data/\u{1}\u{1b}\u{7}.iso", "/d.qcow2").unwrap_err();
        assert_eq!(e, XmlError { field: "ISO's path", ch: '\u{1}' });
        assert!(e.to_string().contains("U+0001"), "{e}");
        assert!(render(&vm, "/data/\u{FFFE}.iso", "/d.qcow2").is_err());
        // Tabs, and every printable character, pass (escaped where XML needs it).
        let xml = render(&vm, "/data/tab\there & ünï.iso", "/d.qcow2").unwrap();
        roxmltree::Document::parse(&xml).expect("well-formed XML");
    }
}
