#!/usr/bin/env bash
# etcd 3.5.16, the etcd line we deploy (etcdImage 3.5.x), for the etcd member-rejoin chaos test
# (test/chaos/etcdRejoin.test.ts). Debian 12 ships etcd 3.4.23; Debian 13 (trixie)'s `etcd-server` and
# `etcd-client` 3.5.16 are static Go binaries that run on Debian 12.
#
# Downloaded from trixie with a separate apt state and extracted into $DEST (lib/trixie.sh, as for
# 20-trixie-patroni.sh); the test runs $DEST/usr/bin/etcd and $DEST/usr/bin/etcdctl.
set -euo pipefail
# shellcheck source=lib/trixie.sh
. "$(dirname "$0")/lib/trixie.sh"
VERSION=3.5.16
DEST=${ETCD35_DIR:-/opt/opscenter-test/etcd-3.5.16}
trixie_present "$DEST" "$VERSION" etcd && exit 0
# Any Debian revision of upstream $VERSION (trixie's is 3.5.16-4 at the time of writing).
trixie_extract "$VERSION" "$DEST" etcd-server etcd-client
"$DEST/usr/bin/etcd" --version | head -n1
"$DEST/usr/bin/etcdctl" version | head -n1
touch "$DEST/.installed-$VERSION"
echo "  etcd $VERSION extracted to $DEST"
