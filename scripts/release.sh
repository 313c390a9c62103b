#!/usr/bin/env bash
# Builds a `hallmark` release binary reproducibly, packages it as the GitHub Action and the GitLab
# component install it, and records the build's own provenance with `hallmark run`.
#
#   scripts/release.sh [TARGET]           build TARGET (default: the host triple), then package it
#   scripts/release.sh package BIN TARGET packaging only: BIN → $OUT/hallmark-$VERSION-$TARGET.tar.gz
#
# Output in $OUT (default release-out/, git-ignored):
#   hallmark-$VERSION-$TARGET.tar.gz       the binary (hallmark) plus LICENSE and README.md
#   SHA256SUMS                             sha256sum format, one line per archive (merged across runs)
#   hallmark-$VERSION-$TARGET.*.sigstore.json   the provenance of the build and package steps
#
# Reproducible: the source date is the commit's (SOURCE_DATE_EPOCH), paths are remapped out of the
# binary, the archive is sorted with fixed owners and mtimes and gzip -n. Two builds of one commit
# with the same toolchain give the same bytes (compare SHA256SUMS).
#
# Provenance: each step runs under `hallmark run` ($HALLMARK, default `hallmark` on PATH), signed
# with $HALLMARK_SIGN (e.g. "--keyless" in CI, "--key release.key" locally; required: nothing is
# signed by default). Set HALLMARK_SIGN=none to skip recording (not for published releases).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
out="${OUT:-release-out}"
version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)"
[ -n "$version" ] || { echo "release: no version in Cargo.toml" >&2; exit 2; }
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}"

package() { # BIN TARGET: the archive and its line in SHA256SUMS
  local bin="$1" target="$2" name stage
  name="hallmark-$version-$target"
  stage="$(mktemp -d)"
  mkdir -p "$stage/$name" "$out"
  install -m 0755 "$bin" "$stage/$name/hallmark"
  install -m 0644 LICENSE README.md "$stage/$name/"
  tar -C "$stage" --sort=name --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner \
    --format=gnu -cf - "$name" | gzip -9 -n > "$out/$name.tar.gz"
  rm -rf "$stage"
  (cd "$out" && { grep -v "  $name.tar.gz\$" SHA256SUMS 2>/dev/null || true; sha256sum "$name.tar.gz"; } \
    | sort -k2 > SHA256SUMS.new && mv SHA256SUMS.new SHA256SUMS)
}

if [ "${1:-}" = package ]; then
  [ $# -eq 3 ] || { echo "usage: scripts/release.sh package BIN TARGET" >&2; exit 2; }
  package "$2" "$3"
  exit 0
fi

build_only=
if [ "${1:-}" = --build-only ]; then build_only=1; shift; fi
target="${1:-$(rustc -vV | sed -n 's/^host: //p')}"
name="hallmark-$version-$target"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
stage="$out/stage/$target"
mkdir -p "$out" "$stage"

build() {
  RUSTFLAGS="${RUSTFLAGS:-} --remap-path-prefix=$root=/hallmark --remap-path-prefix=${CARGO_HOME:-$HOME/.cargo}=/cargo" \
  CARGO_PROFILE_RELEASE_STRIP=symbols \
    cargo build --release --locked -p hallmark-cli --bin hallmark --target "$target"
  install -m 0755 "$target_dir/$target/release/hallmark" "$stage/hallmark"
}

if [ -n "$build_only" ]; then build; exit 0; fi
sign="${HALLMARK_SIGN:?set HALLMARK_SIGN to the signing flags (--keyless, --key FILE) or none}"
hallmark="${HALLMARK:-hallmark}"
if [ "$sign" = none ]; then
  echo "release: HALLMARK_SIGN=none: building without recording provenance" >&2
  build
  package "$stage/hallmark" "$target"
else
  # shellcheck disable=SC2086 # $sign is a list of flags
  "$hallmark" run --step release-build \
    -m Cargo.toml -m Cargo.lock -m model -m attester -m verifier -m remote -m admission -m cli -m policies -m scripts \
    -p "$stage/hallmark" $sign -o "$out/$name.build.sigstore.json" \
    -- bash scripts/release.sh --build-only "$target"
  # shellcheck disable=SC2086
  "$hallmark" run --step release-package -m "$stage/hallmark" -m LICENSE -m README.md \
    -p "$out/$name.tar.gz" $sign -o "$out/$name.package.sigstore.json" \
    -- bash scripts/release.sh package "$stage/hallmark" "$target"
fi
echo "release: $out/$name.tar.gz"
(cd "$out" && grep "  $name.tar.gz\$" SHA256SUMS)
