//! `cargo run --release -p hallmark-cli --example plant_history -- OUT_DIR [ATTESTATIONS] [SEED]`:
//! writes a generated plant history (docs/index.md) to `OUT_DIR/store`, its public key to
//! `OUT_DIR/plant.pub` and what is true of it to `OUT_DIR/truth.json`, for benchmarks and for
//! trying `hallmark index add` and `hallmark trace` on realistic volumes.
#![forbid(unsafe_code)]
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod history;

use std::path::PathBuf;

use hallmark_remote::layout::LayoutStore;

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(out) = args.next().map(PathBuf::from) else {
        eprintln!("usage: plant_history OUT_DIR [ATTESTATIONS] [SEED]");
        std::process::exit(2);
    };
    let mut spec = history::Spec::default();
    if let Some(n) = args.next() {
        spec.attestations = n.parse().expect("ATTESTATIONS is a number");
    }
    if let Some(seed) = args.next() {
        spec.seed = seed.parse().expect("SEED is a number");
    }
    std::fs::create_dir_all(&out).expect("creating OUT_DIR");
    let store = LayoutStore::open(out.join("store")).expect("opening the store");
    let started = std::time::Instant::now();
    let (public_key, truth) = history::generate(&store, &spec);
    std::fs::write(out.join("plant.pub"), public_key).expect("writing plant.pub");
    std::fs::write(
        out.join("truth.json"),
        serde_json::to_vec_pretty(&truth).expect("truth as JSON"),
    )
    .expect("writing truth.json");
    eprintln!(
        "wrote {} attestations ({} releases, {} deployments, {} lots) to {} in {:.1} s",
        truth.attestations,
        truth.releases.len(),
        truth.deployments.len(),
        truth.lots.len(),
        out.join("store").display(),
        started.elapsed().as_secs_f64()
    );
}
