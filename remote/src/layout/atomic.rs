//! Atomic file replacement and the store's writer lock.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;

use crate::{Error, Result};

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename, so
/// readers see either the old or the new content, never a torn write.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let mut temp = tempfile::NamedTempFile::new_in(dir).map_err(Error::io(dir))?;
    temp.write_all(bytes).map_err(Error::io(temp.path()))?;
    temp.as_file().sync_all().map_err(Error::io(temp.path()))?;
    temp.persist(path).map_err(|e| Error::io(path)(e.error))?;
    Ok(())
}

/// An exclusive advisory lock on the store, released on drop. Serialises writers of `index.json`
/// across processes.
pub(crate) struct WriterLock {
    _file: File,
}

impl WriterLock {
    pub(crate) fn acquire(path: &Path) -> Result<Self> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(Error::io(path))?;
        file.lock().map_err(Error::io(path))?;
        Ok(WriterLock { _file: file })
    }
}
