#!/usr/bin/env bash
# Runs every test, real servers included. Installs what the tests need when it
# is missing (Debian packages via apt-get, when run as root or with sudo).
# Usage: bash scripts/test.sh [extra cargo test args]
# Screenshots of the inbox and the widget are left in target/browser/.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '==> %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# PostgreSQL: the scale-out store. Tests create and drop their own databases.
export SWITCHYARD_TEST_PG="${SWITCHYARD_TEST_PG:-postgres://postgres@127.0.0.1:5432/test}"
pg_ready() { command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432; }
if ! pg_ready; then
  if ! command -v pg_ctlcluster >/dev/null; then
    log "installing PostgreSQL"
    apt_install postgresql
  fi
  log "starting PostgreSQL"
  as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start || true
  for _ in $(seq 1 50); do pg_ready && break; sleep 0.2; done
  pg_ready || { echo "PostgreSQL is not reachable on 127.0.0.1:5432" >&2; exit 1; }
  # Trust auth and the `test` database, as on the reference machines.
  if ! psql -h 127.0.0.1 -U postgres -d test -c 'select 1' >/dev/null 2>&1; then
    as_root runuser -u postgres -- psql -q -c "CREATE DATABASE test" 2>/dev/null || true
  fi
fi

# Email: Dovecot as the real IMAP server, aiosmtpd (Debian's python3-aiosmtpd,
# run with Debian's own python3) as the real SMTP sink. The harness starts both.
if [ ! -x /usr/sbin/dovecot ]; then
  log "installing Dovecot (IMAP)"
  apt_install dovecot-imapd
fi
export SWITCHYARD_TEST_PYTHON="${SWITCHYARD_TEST_PYTHON:-/usr/bin/python3}"
if ! "$SWITCHYARD_TEST_PYTHON" -c 'import aiosmtpd' 2>/dev/null; then
  log "installing aiosmtpd (SMTP sink)"
  apt_install python3 python3-aiosmtpd
fi

# /metrics: the Prometheus project's OpenMetrics parser reads the scrape back.
if ! "$SWITCHYARD_TEST_PYTHON" -c 'import prometheus_client' 2>/dev/null; then
  log "installing python3-prometheus-client (OpenMetrics parser)"
  apt_install python3-prometheus-client
fi

# Intervention reports: poppler's pdftotext and pdftoppm read the PDFs back.
if [ ! -x /usr/bin/pdftotext ] || [ ! -x /usr/bin/pdftoppm ]; then
  log "installing poppler-utils (PDF reports)"
  apt_install poppler-utils
fi

# Browser flows (tests/tests/browser.rs): Debian's chromium driven by npm's
# playwright-core; the OpenAPI client check (tests/tests/openapi.rs):
# openapi-typescript and typescript. All pinned in tests/browser/package-lock.json,
# installed again when the lock file changed.
if [ ! -x /usr/bin/chromium ]; then
  log "installing chromium (browser tests)"
  apt_install chromium fonts-dejavu-core
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  log "installing Node.js and npm (browser tests)"
  apt_install nodejs npm
fi
if [ ! -f tests/browser/node_modules/.package-lock.json ] \
  || [ tests/browser/package-lock.json -nt tests/browser/node_modules/.package-lock.json ]; then
  log "installing playwright-core, openapi-typescript, typescript (npm ci in tests/browser)"
  (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
fi

log "cargo test (workspace)"
cargo test --workspace --locked --no-fail-fast "$@"

# Coverage-guided fuzzing, bounded: SY_FUZZ_SECONDS per target (60 by
# default, 0 to leave it out of a local run). A crash fails the run.
fuzz_seconds="${SY_FUZZ_SECONDS:-60}"
if [ "$fuzz_seconds" != 0 ]; then
  log "fuzzing, ${fuzz_seconds}s per target (scripts/fuzz.sh)"
  bash scripts/fuzz.sh "$fuzz_seconds"
fi
