//! The HTML report rendered by headless Chromium (Debian `chromium`, kept off the network):
//! the DOM has the controls table, and the screenshot is a real page showing it.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{evidence, t};
use hallmark_report::assess::{Options, assess};
use hallmark_report::controls::{NIST_800_53, controls};
use hallmark_report::html;

/// Chromium headless, as root, with nothing that reaches out (no background networking,
/// component updates, sync or QUIC) and a throw-away profile.
fn chromium(profile: &Path, args: &[&str]) -> Output {
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .output()
        .expect("chromium (run scripts/install-test-deps.sh)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// RGB pixels of a PNG.
fn pixels(png_bytes: &[u8]) -> (u32, u32, Vec<[u8; 3]>) {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let px = buf[..info.buffer_size()]
        .chunks(channels)
        .map(|p| [p[0], p[1], p[2]])
        .collect();
    (info.width, info.height, px)
}

#[test]
fn the_report_renders_with_its_controls_table() {
    let report = assess(
        NIST_800_53,
        controls(NIST_800_53).unwrap(),
        evidence(),
        Options::at(t("2026-12-05T00:00:00Z")),
    );
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("report.html");
    std::fs::write(&page, html::page(&report)).unwrap();
    let url = format!("file://{}", page.display());
    let profile = dir.path().join("profile");

    // The DOM Chromium built: the table with one row per control.
    let dom = chromium(&profile, &["--dump-dom", &url]);
    let dom = String::from_utf8(dom.stdout).unwrap();
    assert!(dom.contains("<table id=\"controls\">"), "{dom}");
    assert_eq!(dom.matches("<tr id=\"control-").count(), 8);
    assert!(dom.contains("Provenance") && dom.contains("Configuration Change Control"));

    // The screenshot: a page, not a blank, with the table's header shading and the status
    // badges' colours (green for satisfied, amber for partial) painted.
    let shot = dir.path().join("report.png");
    chromium(
        &profile,
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1280,1600",
            &url,
        ],
    );
    let bytes = std::fs::read(&shot).unwrap();
    if let Some(keep) = std::env::var_os("HALLMARK_SCREENSHOT_DIR") {
        std::fs::write(Path::new(&keep).join("report.png"), &bytes).unwrap();
    }
    let (width, height, px) = pixels(&bytes);
    assert_eq!((width, height), (1280, 1600));
    let count = |rgb: [u8; 3]| px.iter().filter(|p| **p == rgb).count();
    let ink = px.iter().filter(|p| p.iter().all(|c| *c < 128)).count();
    assert!(ink > 2_000, "hardly any text drawn: {ink} dark pixels");
    assert!(count([0xf3, 0xf5, 0xf7]) > 5_000, "no table header shading");
    assert!(count([0xd3, 0xf5, 0xdc]) > 200, "no 'satisfied' badge");
    assert!(count([0xff, 0xf2, 0xc6]) > 200, "no 'partial' badge");
}
