//! A push-based tar reader: bytes go in as an upload delivers them (any chunking), member events come
//! out. Reads ustar (POSIX.1-1988), GNU (`L` long names, base-256 sizes) and PAX (`x` headers with
//! `path` and `size`; POSIX.1-2001), which is what OVA writers produce — OVAs over 8 GiB need one of the
//! last two, since an octal size field stops at 8 GiB.
//!
//! Memory is bounded: a 512-byte header and, for long names and PAX records, at most `MAX_META` bytes.

use std::fmt;

const BLOCK: usize = 512;
/// Long names and PAX records for one member; real ones are a few hundred bytes.
const MAX_META: u64 = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    File,
    Directory,
    /// Links, devices, FIFOs: entries without data.
    Special,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Member {
    pub name: String,
    pub size: u64,
    pub kind: Kind,
}

/// Receives a tar stream's members in order: `begin`, the data in pieces, `end`.
pub(super) trait Sink {
    fn begin(&mut self, member: &Member);
    fn data(&mut self, bytes: &[u8]);
    fn end(&mut self);
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum TarError {
    Checksum { offset: u64 },
    Number { offset: u64, field: &'static str },
    MetaTooLarge { offset: u64 },
    Pax { offset: u64 },
    EndsInHeader { offset: u64 },
    EndsInMember { name: String, size: u64, got: u64 },
}

impl fmt::Display for TarError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TarError::Checksum { offset } => {
                write!(f, "not a tar archive, or a damaged one: the header at byte {offset} fails its checksum")
            }
            TarError::Number { offset, field } => {
                write!(f, "the tar header at byte {offset} has an unreadable {field}")
            }
            TarError::MetaTooLarge { offset } => {
                write!(f, "the extended tar header at byte {offset} is larger than {MAX_META} bytes")
            }
            TarError::Pax { offset } => write!(f, "the PAX header at byte {offset} is malformed"),
            TarError::EndsInHeader { offset } => {
                write!(f, "the archive is truncated: it ends inside the header at byte {offset}")
            }
            TarError::EndsInMember { name, size, got } => {
                write!(f, "the archive is truncated: {name} ends after {got} of its {size} bytes")
            }
        }
    }
}

#[derive(Debug)]
enum State {
    Header,
    Data { name: String, size: u64, remaining: u64 },
    Meta { kind: Meta, remaining: u64, buf: Vec<u8> },
    Skip { remaining: u64 },
    End,
    Failed(TarError),
}

#[derive(Debug, Clone, Copy)]
enum Meta {
    GnuLongName,
    Pax,
}

pub(super) struct TarReader {
    state: State,
    header: [u8; BLOCK],
    filled: usize,
    /// Bytes consumed so far: where the current header started, for messages.
    offset: u64,
    header_offset: u64,
    next_name: Option<String>,
    next_size: Option<u64>,
    zero_blocks: u8,
}

impl TarReader {
    pub(super) fn new() -> Self {
        TarReader {
            state: State::Header,
            header: [0; BLOCK],
            filled: 0,
            offset: 0,
            header_offset: 0,
            next_name: None,
            next_size: None,
            zero_blocks: 0,
        }
    }

    pub(super) fn feed(&mut self, mut bytes: &[u8], sink: &mut impl Sink) {
        while !bytes.is_empty() {
            let taken = match &mut self.state {
                State::End | State::Failed(_) => return,
                State::Header => {
                    let n = (BLOCK - self.filled).min(bytes.len());
                    self.header[self.filled..self.filled + n].copy_from_slice(&bytes[..n]);
                    self.filled += n;
                    n
                }
                State::Data { remaining, .. } => {
                    let n = usize::try_from(*remaining).unwrap_or(usize::MAX).min(bytes.len());
                    sink.data(&bytes[..n]);
                    *remaining -= n as u64;
                    n
                }
                State::Meta { remaining, buf, .. } => {
                    let n = usize::try_from(*remaining).unwrap_or(usize::MAX).min(bytes.len());
                    buf.extend_from_slice(&bytes[..n]);
                    *remaining -= n as u64;
                    n
                }
                State::Skip { remaining } => {
                    let n = usize::try_from(*remaining).unwrap_or(usize::MAX).min(bytes.len());
                    *remaining -= n as u64;
                    n
                }
            };
            bytes = &bytes[taken..];
            self.offset += taken as u64;
            self.advance(sink);
        }
    }

    /// Moves on while the current state has all its bytes (a header can complete several at once:
    /// a member of size 0, an empty PAX record).
    fn advance(&mut self, sink: &mut impl Sink) {
        loop {
            match &mut self.state {
                State::Header if self.filled == BLOCK => {
                    self.filled = 0;
                    self.state = self.read_header(sink);
                }
                State::Data { remaining: 0, size, .. } => {
                    let padding = padding(*size);
                    sink.end();
                    self.state = State::Skip { remaining: padding };
                }
                State::Meta { remaining: 0, kind, buf } => {
                    let (kind, buf) = (*kind, std::mem::take(buf));
                    self.state = match self.apply_meta(kind, &buf) {
                        Ok(()) => State::Skip { remaining: padding(buf.len() as u64) },
                        Err(e) => State::Failed(e),
                    };
                }
                State::Skip { remaining: 0 } => self.state = State::Header,
                _ => return,
            }
        }
    }

    fn read_header(&mut self, sink: &mut impl Sink) -> State {
        let h = self.header;
        self.header_offset = self.offset - BLOCK as u64;
        let offset = self.header_offset;
        if h.iter().all(|&b| b == 0) {
            self.zero_blocks += 1;
            return if self.zero_blocks >= 2 { State::End } else { State::Header };
        }
        self.zero_blocks = 0;
        if !checksum_ok(&h) {
            return State::Failed(TarError::Checksum { offset });
        }
        let Some(header_size) = number(&h[124..136]) else {
            return State::Failed(TarError::Number { offset, field: "size" });
        };
        let typeflag = h[156];
        match typeflag {
            b'L' | b'x' => {
                if header_size > MAX_META {
                    return State::Failed(TarError::MetaTooLarge { offset });
                }
                let kind = if typeflag == b'L' { Meta::GnuLongName } else { Meta::Pax };
                State::Meta { kind, remaining: header_size, buf: Vec::with_capacity(header_size as usize) }
            }
            // Long link names and global PAX headers say nothing we use.
            b'K' | b'g' => skip(header_size),
            _ => {
                let size = self.next_size.take().unwrap_or(header_size);
                let name = self.next_name.take().unwrap_or_else(|| ustar_name(&h));
                let kind = match typeflag {
                    b'5' => Kind::Directory,
                    b'1'..=b'4' | b'6' => Kind::Special,
                    _ => Kind::File,
                };
                // POSIX: links, devices, directories and FIFOs carry no data, whatever their size says.
                let size = if kind == Kind::File { size } else { 0 };
                let member = Member { name: name.clone(), size, kind };
                sink.begin(&member);
                if size == 0 {
                    sink.end();
                    State::Header
                } else {
                    State::Data { name, size, remaining: size }
                }
            }
        }
    }

    fn apply_meta(&mut self, kind: Meta, buf: &[u8]) -> Result<(), TarError> {
        let offset = self.header_offset;
        match kind {
            Meta::GnuLongName => {
                let name = buf.split(|&b| b == 0).next().unwrap_or_default();
                self.next_name = Some(String::from_utf8_lossy(name).into_owned());
            }
            Meta::Pax => {
                for (key, value) in pax_records(buf).ok_or(TarError::Pax { offset })? {
                    match key {
                        b"path" => self.next_name = Some(String::from_utf8_lossy(value).into_owned()),
                        b"size" => {
                            let size = std::str::from_utf8(value).ok().and_then(|v| v.parse().ok());
                            self.next_size = Some(size.ok_or(TarError::Pax { offset })?);
                        }
                        _ => {}
                    }
                }
            }
        }
        Ok(())
    }

    /// Says whether the stream ended where an archive may end.
    pub(super) fn finish(&self) -> Result<(), TarError> {
        match &self.state {
            State::Failed(e) => Err(e.clone()),
            State::Header if self.filled > 0 => {
                Err(TarError::EndsInHeader { offset: self.offset - self.filled as u64 })
            }
            State::Data { name, size, remaining } => {
                Err(TarError::EndsInMember { name: name.clone(), size: *size, got: size - remaining })
            }
            State::Meta { .. } => Err(TarError::EndsInHeader { offset: self.header_offset }),
            // Writers that omit the two zero blocks (or the last padding) still wrote every byte of data.
            State::Header | State::Skip { .. } | State::End => Ok(()),
        }
    }
}

fn skip(size: u64) -> State {
    match size.checked_add(padding(size)) {
        Some(0) => State::Header,
        Some(remaining) => State::Skip { remaining },
        None => State::Skip { remaining: u64::MAX },
    }
}

fn padding(size: u64) -> u64 {
    (BLOCK as u64 - size % BLOCK as u64) % BLOCK as u64
}

/// The header checksum: the byte sum with the checksum field read as spaces. Old writers summed signed
/// bytes, so either sum is accepted (as GNU tar does).
fn checksum_ok(h: &[u8; BLOCK]) -> bool {
    let Some(stored) = octal(&h[148..156]) else { return false };
    let field = |i: usize| (148..156).contains(&i);
    let unsigned: u64 = h.iter().enumerate().map(|(i, &b)| if field(i) { 32 } else { u64::from(b) }).sum();
    let signed: i64 = h.iter().enumerate().map(|(i, &b)| if field(i) { 32 } else { i64::from(b as i8) }).sum();
    stored == unsigned || i64::try_from(stored).is_ok_and(|s| s == signed)
}

/// A numeric field: octal digits (space/NUL padded), or GNU's base-256 when the top bit is set.
fn number(field: &[u8]) -> Option<u64> {
    if field[0] & 0x80 != 0 {
        // Base-256, big-endian, two's complement: a negative size (0xFF lead byte) is nonsense.
        if field[0] & 0x40 != 0 {
            return None;
        }
        return field[1..]
            .iter()
            .try_fold(u64::from(field[0] & 0x3F), |acc, &b| acc.checked_mul(256).map(|v| v | u64::from(b)));
    }
    octal(field)
}

fn octal(field: &[u8]) -> Option<u64> {
    let digits: &[u8] = {
        let start = field.iter().position(|&b| b != b' ' && b != 0)?;
        let rest = &field[start..];
        let end = rest.iter().position(|&b| b == b' ' || b == 0).unwrap_or(rest.len());
        &rest[..end]
    };
    digits.iter().try_fold(0u64, |acc, &b| {
        (b'0'..=b'7').contains(&b).then_some(())?;
        acc.checked_mul(8).map(|v| v + u64::from(b - b'0'))
    })
}

fn ustar_name(h: &[u8; BLOCK]) -> String {
    let cstr = |b: &[u8]| b.split(|&c| c == 0).next().unwrap_or_default().to_vec();
    let name = cstr(&h[0..100]);
    // Only POSIX ustar has a prefix field; GNU's "ustar  " header keeps other data there.
    let prefix = if &h[257..263] == b"ustar\0" { cstr(&h[345..500]) } else { Vec::new() };
    let full = if prefix.is_empty() { name } else { [prefix, b"/".to_vec(), name].concat() };
    String::from_utf8_lossy(&full).into_owned()
}

/// `"<len> <key>=<value>\n"` records, where `len` counts the whole record.
fn pax_records(mut buf: &[u8]) -> Option<Vec<(&[u8], &[u8])>> {
    let mut out = Vec::new();
    while !buf.is_empty() {
        let space = buf.iter().position(|&b| b == b' ')?;
        let len: usize = std::str::from_utf8(&buf[..space]).ok()?.parse().ok()?;
        let record = buf.get(space + 1..len)?;
        let record = record.strip_suffix(b"\n")?;
        let eq = record.iter().position(|&b| b == b'=')?;
        out.push((&record[..eq], &record[eq + 1..]));
        buf = &buf[len..];
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Collect {
        events: Vec<String>,
    }

    impl Sink for Collect {
        fn begin(&mut self, m: &Member) {
            self.events.push(format!("begin {} {} {:?}", m.name, m.size, m.kind));
        }
        fn data(&mut self, bytes: &[u8]) {
            match self.events.last_mut() {
                Some(last) if last.starts_with("data ") => last.push_str(&String::from_utf8_lossy(bytes)),
                _ => self.events.push(format!("data {}", String::from_utf8_lossy(bytes))),
            }
        }
        fn end(&mut self) {
            self.events.push("end".into());
        }
    }

    fn header(name: &str, size: &[u8], typeflag: u8, magic: &[u8; 8]) -> [u8; BLOCK] {
        let mut h = [0u8; BLOCK];
        h[..name.len()].copy_from_slice(name.as_bytes());
        h[124..124 + size.len()].copy_from_slice(size);
        h[156] = typeflag;
        h[257..265].copy_from_slice(magic);
        h[148..156].copy_from_slice(b"        ");
        let sum: u64 = h.iter().map(|&b| u64::from(b)).sum();
        h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        h
    }

    fn run(bytes: &[u8]) -> (Vec<String>, Result<(), TarError>) {
        let mut reader = TarReader::new();
        let mut sink = Collect::default();
        reader.feed(bytes, &mut sink);
        (sink.events, reader.finish())
    }

    #[test]
    fn numbers_are_octal_or_base_256() {
        assert_eq!(number(b"00000001750\0"), Some(1000));
        assert_eq!(number(b"  1750 \0\0\0\0\0"), Some(1000));
        let mut big = [0u8; 12];
        big[0] = 0x80;
        big[7..].copy_from_slice(&[0x02, 0x40, 0x00, 0x00, 0x00]);
        assert_eq!(number(&big), Some(9 << 30));
        assert_eq!(number(&[0xFF; 12]), None);
        assert_eq!(number(b"00000009\0\0\0\0"), None);
    }

    #[test]
    fn a_member_and_its_padding_are_read_and_the_end_found() {
        let data = [&header("a.txt", b"00000000005\0", b'0', b"ustar\x0000")[..], b"hello", &[0u8; 507], &[0u8; 1024]]
            .concat();
        let (events, end) = run(&data);
        assert_eq!(events, ["begin a.txt 5 File", "data hello", "end"]);
        assert_eq!(end, Ok(()));
    }

    #[test]
    fn ustar_prefixes_join_the_name() {
        let mut h = header("disk.vmdk", b"00000000000\0", b'0', b"ustar\x0000");
        h[345..349].copy_from_slice(b"deep");
        h[148..156].copy_from_slice(b"        ");
        let sum: u64 = h.iter().map(|&b| u64::from(b)).sum();
        h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        assert_eq!(run(&h).0, ["begin deep/disk.vmdk 0 File", "end"]);
    }

    #[test]
    fn a_bad_checksum_is_refused() {
        let mut h = header("a", b"00000000000\0", b'0', b"ustar\x0000");
        h[0] = b'b';
        assert_eq!(run(&h).1, Err(TarError::Checksum { offset: 0 }));
    }

    #[test]
    fn a_stream_cut_inside_a_member_says_how_much_arrived() {
        let data = [&header("disk.vmdk", b"00000001750\0", b'0', b"ustar\x0000")[..], &[1u8; 100]].concat();
        assert_eq!(run(&data).1, Err(TarError::EndsInMember { name: "disk.vmdk".into(), size: 1000, got: 100 }));
        assert_eq!(run(&data[..300]).1, Err(TarError::EndsInHeader { offset: 0 }));
    }

    #[test]
    fn pax_records_parse_and_refuse_nonsense() {
        assert_eq!(pax_records(b"12 path=a.b\n").unwrap(), [(&b"path"[..], &b"a.b"[..])]);
        assert_eq!(pax_records(b"99 path=a\n"), None);
        assert_eq!(pax_records(b"x path=a\n"), None);
        assert_eq!(pax_records(b"6 path\n"), None);
    }

    #[test]
    fn directories_and_links_carry_no_data_whatever_their_size() {
        let data = [&header("dir/", b"00000000012\0", b'5', b"ustar\x0000")[..], &[0u8; 1024]].concat();
        assert_eq!(run(&data).0, ["begin dir/ 0 Directory", "end"]);
    }
}
