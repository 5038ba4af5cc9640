#!/usr/bin/env bash
# Coverage-guided fuzzing (cargo-fuzz, libFuzzer) of everything that reads
# outside input: MIME, WhatsApp notifications, chat frames, rule files,
# knowledge entries, the configuration. Stable toolchain: --sanitizer none
# (the code is safe Rust; libFuzzer finds panics, overflows in debug
# assertions, runaway memory and time).
#
# Usage: bash scripts/fuzz.sh [seconds per target] [target …]
#   default 60 s per target, every target. Longer runs: README "Fuzzing".
# Each target's corpus grows in fuzz/corpus/<target> (kept between runs, not
# committed), seeded from the project's own fixtures. A crash stops the run
# with the input in fuzz/artifacts/<target>/: make it a regression test.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
shift || true
targets=("$@")
if [ ${#targets[@]} = 0 ]; then
  targets=(mime whatsapp_notification chat_frame rules kb_entry config)
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "==> installing cargo-fuzz" >&2
  cargo install --locked cargo-fuzz@0.13.2
fi

seed() {
  local target=$1
  shift
  mkdir -p "fuzz/corpus/$target"
  for f in "$@"; do
    [ -f "$f" ] && cp -n "$f" "fuzz/corpus/$target/seed-$(basename "$f")"
  done
  return 0
}
seed mime channels/tests/fixtures/mail/*.eml
seed whatsapp_notification fuzz/seeds/whatsapp/*
seed chat_frame fuzz/seeds/chat_frame/*
seed rules triage/defaults/rules.toml triage/defaults/concepts.toml
seed kb_entry triage/defaults/kb/*.md
seed config deploy/switchyard.example.toml

cargo fuzz build --sanitizer none
mkdir -p target/fuzz-logs
failed=0
for t in "${targets[@]}"; do
  log="target/fuzz-logs/$t.log"
  echo "==> fuzzing $t for ${seconds}s ($log)" >&2
  status=0
  cargo fuzz run --sanitizer none "$t" "fuzz/corpus/$t" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=262144 -print_final_stats=1 \
    >"$log" 2>&1 || status=$?
  grep -E "^stat::(number_of_executed_units|new_units_added)|^Done " "$log" >&2 || true
  if [ "$status" != 0 ]; then
    grep -E -A30 "panicked|ERROR: libFuzzer|SUMMARY" "$log" | head -60 >&2 || tail -40 "$log" >&2
    echo "==> $t FAILED: the input is in fuzz/artifacts/$t/; make it a regression test" >&2
    failed=1
  fi
done
exit "$failed"
