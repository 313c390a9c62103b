//! Progress bars, drawn on stderr only when it is a terminal: hashing, for runs of 64 files or
//! more (the attester reports progress; drawing it is the command line's business), and bytes
//! streamed through an evidence bundle, for 64 MiB or more.

use std::sync::{Mutex, MutexGuard};

use hallmark_attester::hashing::Progress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Fewer files than this hash too fast for a bar to help.
const MIN_FILES: u64 = 64;

/// A bar per hashing run (a step hashes its materials, then its products).
#[derive(Debug, Default)]
pub struct HashingBar {
    bar: Mutex<Option<ProgressBar>>,
}

impl HashingBar {
    fn bar(&self) -> MutexGuard<'_, Option<ProgressBar>> {
        // A panic while drawing leaves nothing inconsistent worth refusing to draw again.
        self.bar
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Progress for HashingBar {
    fn start(&self, total: u64) {
        let bar = (total >= MIN_FILES).then(|| {
            // The stderr target draws only when stderr is a terminal.
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            if let Ok(style) =
                ProgressStyle::with_template("hashing {bar:30} {pos}/{len} files {elapsed}")
            {
                bar.set_style(style);
            }
            bar
        });
        if let Some(previous) = std::mem::replace(&mut *self.bar(), bar) {
            previous.finish_and_clear();
        }
    }

    fn advance(&self, n: u64) {
        if let Some(bar) = self.bar().as_ref() {
            bar.inc(n);
        }
    }

    fn finish(&self) {
        if let Some(bar) = self.bar().take() {
            bar.finish_and_clear();
        }
    }
}

/// Bundles smaller than this stream too fast for a bar to help.
const MIN_BYTES: u64 = 64 << 20;

/// A byte-count bar for streaming `total` bytes (evidence bundles), drawn on stderr only when it
/// is a terminal; `None` below 64 MiB.
pub fn bytes_bar(total: u64, what: &str) -> Option<ProgressBar> {
    (total >= MIN_BYTES).then(|| {
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template(&format!(
            "{what} {{bar:30}} {{bytes}}/{{total_bytes}} {{elapsed}}"
        )) {
            bar.set_style(style);
        }
        bar
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bar_only_for_long_runs_and_none_after_finish() {
        let bar = HashingBar::default();
        bar.start(MIN_FILES - 1);
        assert!(bar.bar().is_none());
        bar.advance(1);
        bar.start(MIN_FILES);
        bar.advance(2);
        assert_eq!(bar.bar().as_ref().map(ProgressBar::position), Some(2));
        bar.finish();
        assert!(bar.bar().is_none());
        assert!(bytes_bar(MIN_BYTES - 1, "reading").is_none());
        assert_eq!(
            bytes_bar(MIN_BYTES, "reading").and_then(|b| b.length()),
            Some(MIN_BYTES)
        );
    }
}
