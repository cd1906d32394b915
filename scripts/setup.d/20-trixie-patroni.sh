#!/usr/bin/env bash
# Patroni 4.0.7, the Patroni line that Spilo 4.0 runs, for the Postgres chaos tests and benchmarks. Debian 12
# ships Patroni 3.0.2; Debian 13 (trixie)'s `patroni` 4.0.7 is pure Python and runs on Debian 12's Python 3.11
# with Debian 12's dependencies (python3-psycopg2, -etcd3/-urllib3, -yaml, -click, -prettytable, -dateutil,
# -psutil, -ydiff, all installed with Debian 12's patroni by 10-debian-packages.sh).
#
# Downloaded from trixie with a separate apt state and extracted into $DEST (lib/trixie.sh); the tests run it as
# `/usr/bin/python3 $DEST/usr/bin/patroni` with PYTHONPATH set.
set -euo pipefail
# shellcheck source=lib/trixie.sh
. "$(dirname "$0")/lib/trixie.sh"
VERSION=4.0.7
DEST=${PATRONI4_DIR:-/opt/opscenter-test/patroni-4.0.7}
trixie_present "$DEST" "$VERSION" Patroni && exit 0
# Any Debian revision of upstream $VERSION (trixie's is 4.0.7-3~deb13u1 at the time of writing).
trixie_extract "$VERSION" "$DEST" patroni
PYTHONPATH="$DEST/usr/lib/python3/dist-packages" /usr/bin/python3 "$DEST/usr/bin/patroni" --version
touch "$DEST/.installed-$VERSION"
echo "  Patroni $VERSION extracted to $DEST"
