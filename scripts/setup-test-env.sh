#!/usr/bin/env bash
# Installs and starts what `npm test` needs on a Debian 12 machine, idempotently: each step in
# scripts/setup.d/ (run in name order) checks what is already there and says what it does.
# Needs root (or sudo). SKIP_TEST_SETUP=1 skips it (for a machine you set up yourself).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${SKIP_TEST_SETUP:-}" = 1 ]; then echo "test setup: skipped (SKIP_TEST_SETUP=1)"; exit 0; fi
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then exec sudo -E bash "$0" "$@"; fi
    echo "test setup: needs root (apt-get, network namespaces, dockerd); run as root or install sudo" >&2
    exit 1
fi
for step in scripts/setup.d/*.sh; do
    echo "test setup: ${step#scripts/setup.d/}"
    bash "$step"
done
