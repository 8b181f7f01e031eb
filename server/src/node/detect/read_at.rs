//! Random access to an image, and the read budget that keeps detection cheap.

use std::cell::Cell;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

/// Positioned reads from an image: a file on disk, or bytes in memory (tests).
pub trait ReadAt {
    /// The image's length in bytes.
    fn len(&self) -> u64;

    /// Reads up to `buf.len()` bytes at `offset`; like `pread`, may return fewer.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize>;

    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl ReadAt for File {
    fn len(&self) -> u64 {
        // An unreadable length reads as an empty image: every read then reports "past the end".
        self.metadata().map(|m| m.len()).unwrap_or(0)
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        FileExt::read_at(self, buf, offset)
    }
}

impl ReadAt for &[u8] {
    fn len(&self) -> u64 {
        <[u8]>::len(self) as u64
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let Ok(start) = usize::try_from(offset) else { return Ok(0) };
        let Some(rest) = self.get(start..) else { return Ok(0) };
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        Ok(n)
    }
}

impl<T: ReadAt + ?Sized> ReadAt for &T {
    fn len(&self) -> u64 {
        (**self).len()
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        (**self).read_at(offset, buf)
    }
}

/// Why a read the probe needed did not happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum ReadError {
    /// The bytes lie (partly) beyond the end of the image.
    PastEnd {
        offset: u64,
        len: usize,
    },
    /// The probe already read its budget; reading more would make detection a second pass over the file.
    Budget,
    Io(String),
}

/// A reader that refuses to read more than `budget` bytes in total, so no image (however its
/// descriptors point around) can make detection cost more than a small, fixed amount of I/O.
pub(super) struct Budgeted<R> {
    inner: R,
    left: Cell<u64>,
}

impl<R: ReadAt> Budgeted<R> {
    pub(super) fn new(inner: R, budget: u64) -> Self {
        Budgeted { inner, left: Cell::new(budget) }
    }

    pub(super) fn len(&self) -> u64 {
        self.inner.len()
    }

    /// Fills `buf` from `offset`, or says why it could not. The budget is charged before reading, so a
    /// refused read costs nothing and a granted one never exceeds what is left.
    pub(super) fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), ReadError> {
        let want = buf.len() as u64;
        let past_end = ReadError::PastEnd { offset, len: buf.len() };
        if offset.checked_add(want).is_none_or(|end| end > self.inner.len()) {
            return Err(past_end);
        }
        let left = self.left.get();
        if want > left {
            return Err(ReadError::Budget);
        }
        self.left.set(left - want);
        let mut done = 0;
        while done < buf.len() {
            match self.inner.read_at(offset + done as u64, &mut buf[done..]) {
                Ok(0) => return Err(past_end),
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(ReadError::Io(e.to_string())),
            }
        }
        Ok(())
    }

    /// Reads `len` bytes at `offset` into a new buffer.
    pub(super) fn read_vec(&self, offset: u64, len: usize) -> Result<Vec<u8>, ReadError> {
        let mut buf = vec![0; len];
        self.read_exact_at(offset, &mut buf)?;
        Ok(buf)
    }
}

/// Counts every byte asked for, independently of the budget a probe enforces on itself.
#[cfg(test)]
pub(super) struct Counting<'a> {
    pub data: &'a [u8],
    pub asked: Cell<u64>,
}

#[cfg(test)]
impl ReadAt for Counting<'_> {
    fn len(&self) -> u64 {
        self.data.len() as u64
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        self.asked.set(self.asked.get() + buf.len() as u64);
        (&self.data).read_at(offset, buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budgeted_reader_refuses_to_read_past_its_budget() {
        let data = vec![7u8; 4096];
        let reader = Budgeted::new(data.as_slice(), 3000);
        let mut buf = [0u8; 2048];
        assert_eq!(reader.read_exact_at(0, &mut buf), Ok(()));
        assert_eq!(reader.read_exact_at(2048, &mut buf), Err(ReadError::Budget));
        let mut small = [0u8; 952];
        assert_eq!(reader.read_exact_at(2048, &mut small), Ok(()));
        assert_eq!(reader.read_exact_at(0, &mut [0u8; 1]), Err(ReadError::Budget));
    }

    #[test]
    fn a_read_past_the_end_is_refused_without_charging_the_budget() {
        let data = vec![1u8; 100];
        let reader = Budgeted::new(data.as_slice(), 100);
        assert_eq!(reader.read_exact_at(50, &mut [0u8; 51]), Err(ReadError::PastEnd { offset: 50, len: 51 }));
        assert_eq!(reader.read_exact_at(u64::MAX, &mut [0u8; 2]), Err(ReadError::PastEnd { offset: u64::MAX, len: 2 }));
        assert_eq!(reader.read_exact_at(0, &mut [0u8; 100]), Ok(()));
    }

    #[test]
    fn a_file_reads_like_its_bytes() {
        let mut file = tempfile_in_tmp();
        std::io::Write::write_all(&mut file, b"hello, image").unwrap();
        assert_eq!(ReadAt::len(&file), 12);
        let reader = Budgeted::new(&file, 1024);
        assert_eq!(reader.read_vec(7, 5).unwrap(), b"image");
    }

    fn tempfile_in_tmp() -> File {
        let path = std::env::temp_dir().join(format!("detect-read-at-{}", std::process::id()));
        let file = File::options().read(true).write(true).create(true).truncate(true).open(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        file
    }
}
