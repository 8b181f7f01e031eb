// Small but valid images for the browser tests, built in memory: an ISO 9660 volume with a given volume
// id and El Torito BIOS/UEFI entries, and an OVA (a ustar archive) holding an OVF descriptor. The node
// reads what is inside them, so a test can carry a real distribution's id under a name that says nothing.
// The Rust suite has its own, fuller writer (server/tests/it/support/iso_image.rs); this one writes only
// what these pages need.

const SECTOR = 2048;

function both16(v: number): number[] {
  return [v & 0xff, v >> 8, v >> 8, v & 0xff];
}

function both32(v: number): number[] {
  const le = [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
  return [...le, ...[...le].reverse()];
}

function u32le(v: number): number[] {
  return both32(v).slice(0, 4);
}

function ascii(s: string, width: number, pad = 0x20): number[] {
  const out = new Array(width).fill(pad);
  for (let i = 0; i < Math.min(width, s.length); i++) out[i] = s.charCodeAt(i);
  return out;
}

function directoryRecord(extent: number, id: number): number[] {
  const r = new Array(34).fill(0);
  r[0] = 34;
  r.splice(2, 8, ...both32(extent));
  r.splice(10, 8, ...both32(SECTOR));
  r.splice(18, 7, 124, 1, 1, 12, 0, 0, 0);
  r[25] = 0x02;
  r.splice(28, 4, ...both16(1));
  r[32] = 1;
  r[33] = id;
  return r;
}

/** An ISO whose descriptors say `volumeId`, booting under BIOS and/or UEFI. */
export function isoImage(volumeId: string, boot: { bios: boolean; uefi: boolean }): Buffer {
  // 16 system sectors, PVD, boot record, terminator, path tables, root, catalogue, two boot images.
  const [pvd, record, terminator, tables, root, catalogue, images, total] = [16, 17, 18, 19, 21, 22, 23, 25];
  const image = Buffer.alloc(total * SECTOR);
  const put = (sector: number, bytes: number[], offset = 0) => Buffer.from(bytes).copy(image, sector * SECTOR + offset);
  const header = (sector: number, kind: number) => put(sector, [kind, ...ascii("CD001", 5), 1]);

  header(pvd, 1);
  put(pvd, ascii("", 32), 8);
  put(pvd, ascii(volumeId, 32), 40);
  put(pvd, both32(total), 80);
  put(pvd, both16(1), 120);
  put(pvd, both16(1), 124);
  put(pvd, both16(SECTOR), 128);
  put(pvd, both32(10), 132);
  put(pvd, u32le(tables), 140);
  put(pvd, [0, 0, 0, tables + 1], 148);
  put(pvd, directoryRecord(root, 0), 156);
  put(pvd, ascii("", 623), 190);
  put(pvd, [1], 881);
  put(tables, [1, 0, ...u32le(root), 1, 0, 0, 0]);
  put(tables + 1, [1, 0, 0, 0, 0, root, 0, 1, 0, 0]);
  put(root, [...directoryRecord(root, 0), ...directoryRecord(root, 1)]);

  header(record, 0);
  put(record, ascii("EL TORITO SPECIFICATION", 32, 0), 7);
  put(record, u32le(catalogue), 71);
  const validation = new Array(32).fill(0);
  validation[0] = 1;
  validation[1] = boot.bios || !boot.uefi ? 0x00 : 0xef;
  validation[30] = 0x55;
  validation[31] = 0xaa;
  let sum = 0;
  for (let i = 0; i < 32; i += 2) sum = (sum + validation[i] + (validation[i + 1] << 8)) & 0xffff;
  const check = (0x10000 - sum) & 0xffff;
  validation[28] = check & 0xff;
  validation[29] = check >> 8;
  const entry = (rba: number) => [0x88, 0, 0, 0, 0, 0, 4, 0, ...u32le(rba), ...new Array(20).fill(0)];
  const cat = [...validation, ...entry(boot.bios || !boot.uefi ? images : images + 1)];
  if (boot.bios && boot.uefi) cat.push(0x91, 0xef, 1, 0, ...new Array(28).fill(0), ...entry(images + 1));
  put(catalogue, cat);
  header(terminator, 255);
  return image;
}

function tarHeader(name: string, size: number): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, "ascii");
  h.write("0000644\0", 100, "ascii");
  h.write("0000000\0", 108, "ascii");
  h.write("0000000\0", 116, "ascii");
  h.write(size.toString(8).padStart(11, "0") + "\0", 124, "ascii");
  h.write("00000000000\0", 136, "ascii");
  h.write("        ", 148, "ascii");
  h.write("0", 156, "ascii");
  h.write("ustar\0", 257, "ascii");
  h.write("00", 263, "ascii");
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, "0") + "\0 ", 148, "ascii");
  return h;
}

/** An OVA: its OVF (a VM of `vcpus`, `memoryMib`, one disk of `diskGib`, `firmware`) and the disk. */
export function ovaImage(opts: { vcpus: number; memoryMib: number; diskGib: number; firmware: "efi" | "bios" }): Buffer {
  const ovf = `<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1"
  xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData"
  xmlns:vmw="http://www.vmware.com/schema/ovf">
  <References><File ovf:href="disk1.vmdk" ovf:id="file1"/></References>
  <DiskSection><Info>Disks</Info>
    <Disk ovf:capacity="${opts.diskGib}" ovf:capacityAllocationUnits="byte * 2^30" ovf:diskId="vmdisk1" ovf:fileRef="file1"/>
  </DiskSection>
  <VirtualSystem ovf:id="appliance">
    <Info>A virtual machine</Info>
    <OperatingSystemSection ovf:id="94" vmw:osType="ubuntu64Guest"><Info>OS</Info><Description>Ubuntu Linux (64-bit)</Description></OperatingSystemSection>
    <VirtualHardwareSection><Info>Hardware</Info>
      <Item><rasd:AllocationUnits>hertz * 10^6</rasd:AllocationUnits><rasd:ElementName>CPUs</rasd:ElementName><rasd:InstanceID>1</rasd:InstanceID><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>${opts.vcpus}</rasd:VirtualQuantity></Item>
      <Item><rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits><rasd:ElementName>Memory</rasd:ElementName><rasd:InstanceID>2</rasd:InstanceID><rasd:ResourceType>4</rasd:ResourceType><rasd:VirtualQuantity>${opts.memoryMib}</rasd:VirtualQuantity></Item>
      <Item><rasd:ElementName>Network</rasd:ElementName><rasd:InstanceID>3</rasd:InstanceID><rasd:ResourceType>10</rasd:ResourceType></Item>
      <vmw:Config ovf:required="false" vmw:key="firmware" vmw:value="${opts.firmware}"/>
    </VirtualHardwareSection>
  </VirtualSystem>
</Envelope>
`;
  const members: [string, Buffer][] = [["appliance.ovf", Buffer.from(ovf)], ["disk1.vmdk", Buffer.alloc(4096, 7)]];
  const parts: Buffer[] = [];
  for (const [name, data] of members) {
    parts.push(tarHeader(name, data.length), data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}
