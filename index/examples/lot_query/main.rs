//! Backward queries over a big evidence index (docs/benchmarks.md, "Evidence index").
//!
//! ```text
//! lot_query build DB TRUTH N [SEED]   generate a plant history of about N attestations, sign each
//!                                     (ECDSA P-256), verify and ingest them through
//!                                     Index::verify_and_add into DB; write what is true to TRUTH
//! lot_query query DB TRUTH [LOTS] [RUNS]
//!                                     time Index::trace_lot and Index::trace_target (the first,
//!                                     cold query, then RUNS warm runs for each of LOTS lots),
//!                                     check every trace against TRUTH, print the query plans
//! lot_query postgres N [LOTS] [RUNS]  both, on a throw-away PostgreSQL (testsvc)
//! ```
//!
//! DB is a SQLite path or a `postgres://` URL. The bundles are signed in memory rather than
//! written to a store: what is measured is the index (verification, writes, queries), and a
//! million store blobs would mostly measure the file system.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod plant;

use std::time::{Duration, Instant, SystemTime};

use hallmark_attester::keys::SigningKey;
use hallmark_attester::signer::{KeySigner, Signer};
use hallmark_index::Index;
use hallmark_index::verify::Found;
use hallmark_model::keyid::KeyKind;
use hallmark_verifier::keys::TrustedKey;
use hallmark_verifier::verdict::Requirements;
use rayon::prelude::*;

use plant::Truth;

/// Events signed, verified and ingested at a time (bounds memory: about 2 KB a bundle).
const CHUNK: usize = 20_000;

fn build(location: &str, n: usize, seed: u64) -> Truth {
    let (events, truth) = plant::events(n, seed);
    println!(
        "history: {} attestations ({} deployments, {} lots) from {} events, seed {seed}",
        truth.attestations,
        truth.deployments.len(),
        truth.lots.len(),
        events.len()
    );
    let key = SigningKey::generate(KeyKind::EcdsaP256).unwrap();
    let trusted = TrustedKey::from_pem(key.public_key_pem().as_bytes(), "plant.pub").unwrap();
    let signer = KeySigner::new(key);
    let requirements = Requirements {
        keys: vec![trusted],
        ..Requirements::at(SystemTime::now())
    };
    let mut index = Index::open(location).unwrap();
    let (mut signing, mut ingesting) = (Duration::ZERO, Duration::ZERO);
    let (mut done, mut rejected, mut last_report) = (0usize, 0usize, 0usize);
    let mut since = (Instant::now(), Duration::ZERO);
    for chunk in events.chunks(CHUNK) {
        let start = Instant::now();
        let bundles: Vec<Vec<u8>> = chunk
            .par_iter()
            .flat_map_iter(plant::statements)
            .map(|s| signer.sign_statement(&s).unwrap().to_json())
            .collect();
        signing += start.elapsed();
        let found: Vec<Found<'_>> = bundles
            .iter()
            .map(|b| Found {
                origin: "bench",
                bundle: b,
            })
            .collect();
        let start = Instant::now();
        index
            .verify_and_add(&found, &requirements, "key plant.pub", 1_000, |_, r| {
                if r.is_err() {
                    rejected += 1;
                }
            })
            .unwrap();
        let took = start.elapsed();
        ingesting += took;
        since.1 += took;
        done += bundles.len();
        if done - last_report >= 100_000 {
            println!(
                "  {done:>9} ingested: last {} at {:.0}/s (verify + write)",
                done - last_report,
                (done - last_report) as f64 / since.1.as_secs_f64()
            );
            last_report = done;
            since = (Instant::now(), Duration::ZERO);
        }
    }
    assert_eq!(rejected, 0, "generated bundles must all verify");
    let counts = index.counts().unwrap();
    assert_eq!(counts.attestations as usize, truth.attestations);
    println!(
        "signing: {:.1} s ({:.0}/s); verify + ingest: {:.1} s, {:.0} attestations/s ({} threads)",
        signing.as_secs_f64(),
        done as f64 / signing.as_secs_f64(),
        ingesting.as_secs_f64(),
        done as f64 / ingesting.as_secs_f64(),
        rayon::current_num_threads()
    );
    println!("rows: {counts:?}");
    truth
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1_000.0
}

/// (median, p95, max) in milliseconds.
fn summary(mut times: Vec<Duration>) -> (f64, f64, f64) {
    times.sort();
    let pick = |q: f64| ms(times[((times.len() - 1) as f64 * q).round() as usize]);
    (pick(0.5), pick(0.95), pick(1.0))
}

fn query(location: &str, truth: &Truth, lots: usize, runs: usize) {
    let opened = Instant::now();
    let mut index = Index::open(location).unwrap();
    let open = opened.elapsed();
    // Lots spread evenly over the history (ids are in generation order, times are random).
    let picked: Vec<&(String, String, u64, u64)> = (0..lots)
        .map(|i| &truth.lots[i * truth.lots.len() / lots.max(1)])
        .collect();
    let check = |trace: &hallmark_index::LotTrace,
                 (_, line, from, to): &(String, String, u64, u64)| {
        let mut running: Vec<(String, String)> = trace
            .running
            .iter()
            .map(|w| (w.target.clone(), w.artifact.clone()))
            .collect();
        running.sort();
        running.dedup();
        assert_eq!(
            running,
            truth.running(line, *from, *to),
            "lot {}",
            trace.lot
        );
        assert_eq!(trace.records.len(), 1);
    };
    // The first query of the process: SQLite's page cache is empty (and the OS cache too when
    // the caller dropped it, as bench/index.sh does when it may).
    let start = Instant::now();
    let first = index.trace_lot(&picked[0].0).unwrap();
    let cold = start.elapsed();
    check(&first, picked[0]);
    // Counted after the first query: COUNT(*) reads a whole index into the cache.
    let counts = index.counts().unwrap();
    println!("index: {location}, {counts:?}");
    let mut times = Vec::new();
    let mut first_runs = Vec::new();
    let (mut artifacts, mut steps, mut evidence) = (0, 0, 0);
    for lot in &picked {
        for run in 0..runs {
            let start = Instant::now();
            let trace = index.trace_lot(&lot.0).unwrap();
            times.push(start.elapsed());
            if run == 0 {
                first_runs.push(start.elapsed());
            }
            if run == 0 {
                check(&trace, lot);
                artifacts += trace.artifacts.len();
                steps += trace.artifacts.iter().map(|a| a.steps.len()).sum::<usize>();
                evidence += trace
                    .artifacts
                    .iter()
                    .map(|a| a.evidence.len())
                    .sum::<usize>();
            }
        }
    }
    let (first_median, _, first_max) = summary(first_runs);
    let (median, p95, max) = summary(times);
    println!(
        "trace_lot, first run of each lot (its pages read for the first time): median \
         {first_median:.2} ms, max {first_max:.2} ms"
    );
    println!(
        "trace_lot: open {:.1} ms, first (cold) {:.1} ms; warm over {} lots x {runs}: median \
         {median:.2} ms, p95 {p95:.2} ms, max {max:.2} ms ({:.1} artifacts, {:.1} steps, {:.1} \
         attestations per lot)",
        ms(open),
        ms(cold),
        picked.len(),
        artifacts as f64 / picked.len() as f64,
        steps as f64 / picked.len() as f64,
        evidence as f64 / picked.len() as f64,
    );
    // A line at the middle of each picked lot.
    let mut times = Vec::new();
    let mut running = 0;
    for (_, line, from, to) in &picked {
        let at = plant::at((from + to) / 2);
        for run in 0..runs {
            let start = Instant::now();
            let trace = index.trace_target(line, at).unwrap();
            times.push(start.elapsed());
            if run == 0 {
                running += trace.running.len();
                assert!(trace.running.len() <= plant::ASSETS_PER_LINE);
            }
        }
    }
    let (median, p95, max) = summary(times);
    println!(
        "trace_target (a line at a time): median {median:.2} ms, p95 {p95:.2} ms, max {max:.2} ms \
         ({:.1} deployments in service per query)",
        running as f64 / picked.len() as f64
    );
    index.record_statements();
    let (_, line, from, to) = picked[0];
    index.trace_lot(&picked[0].0).unwrap();
    index
        .trace_target(line, plant::at((from + to) / 2))
        .unwrap();
    let plans = index.query_plans().unwrap();
    if !plans.is_empty() {
        println!(
            "\nquery plans of the {} statements trace_lot and trace_target run (SQLite \
             EXPLAIN QUERY PLAN):",
            plans.len()
        );
        let mut scans = 0;
        for p in &plans {
            println!("\n{}", p.sql);
            for line in &p.plan {
                println!("  {line}");
                // A full scan reads "SCAN t"; "SCAN t USING ... INDEX" without a search term
                // reads a whole index. Temporary b-trees (DISTINCT, ORDER BY) are not scans.
                if line.trim_start().starts_with("SCAN ") {
                    scans += 1;
                }
            }
        }
        println!("\nstatements with a SCAN: {scans}");
    }
}

fn arg<T: std::str::FromStr>(args: &[String], i: usize, default: T) -> T {
    args.get(i)
        .map_or(Some(default), |a| a.parse().ok())
        .expect("a number")
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("build") if args.len() >= 4 => {
            let truth = build(&args[1], arg(&args, 3, 0), arg(&args, 4, 7));
            std::fs::write(&args[2], serde_json::to_vec(&truth).unwrap()).unwrap();
        }
        Some("query") if args.len() >= 3 => {
            let truth: Truth = serde_json::from_slice(&std::fs::read(&args[2]).unwrap()).unwrap();
            query(&args[1], &truth, arg(&args, 3, 20), arg(&args, 4, 20));
        }
        Some("postgres") if args.len() >= 2 => {
            let pg = hallmark_testsvc::postgres::Postgres::start().unwrap();
            let truth = build(pg.url(), arg(&args, 1, 0), 7);
            println!("\nbefore ANALYZE (as left by the load; autovacuum may analyze meanwhile):");
            query(pg.url(), &truth, arg(&args, 2, 20), arg(&args, 3, 20));
            // PostgreSQL plans from table statistics, which a bulk load leaves stale until
            // autovacuum gets to them.
            let mut client = postgres::Client::connect(pg.url(), postgres::NoTls).unwrap();
            let start = Instant::now();
            client.batch_execute("ANALYZE").unwrap();
            println!("\nafter ANALYZE ({:.0} ms):", ms(start.elapsed()));
            query(pg.url(), &truth, arg(&args, 2, 20), arg(&args, 3, 20));
        }
        _ => {
            eprintln!(
                "usage: lot_query build DB TRUTH N [SEED] | query DB TRUTH [LOTS] [RUNS] | \
                 postgres N [LOTS] [RUNS]"
            );
            std::process::exit(2);
        }
    }
}
