//! Evidence-bundle tar archives (`hallmark_remote::evidence::archive::unpack`), unpacked from the
//! input bytes into a fresh directory for each run (in /dev/shm when there is one: the layout's
//! fsyncs cost nothing on tmpfs), with small limits.
#![no_main]

use std::path::PathBuf;
use std::sync::LazyLock;

use hallmark_remote::evidence::archive::{Limits, unpack};
use libfuzzer_sys::fuzz_target;

static BASE: LazyLock<PathBuf> = LazyLock::new(|| {
    let shm = PathBuf::from("/dev/shm");
    if shm.is_dir() {
        shm
    } else {
        std::env::temp_dir()
    }
});

fuzz_target!(|data: &[u8]| {
    let Ok(dir) = tempfile::tempdir_in(&*BASE) else {
        return;
    };
    let limits = Limits {
        blob_bytes: 1 << 20,
        archive_bytes: 4 << 20,
        entries: 64,
        keep_blobs_up_to: None,
    };
    let _ = unpack(data, dir.path(), &limits, |_| {});
});
