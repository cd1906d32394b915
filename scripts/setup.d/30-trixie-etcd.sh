#!/usr/bin/env bash
# etcd 3.5.16, the etcd line we deploy (etcdImage 3.5.x), for the etcd member-rejoin chaos test
# (test/chaos/etcdRejoin.test.ts). Debian 12 ships etcd 3.4.23; Debian 13 (trixie)'s `etcd-server` and
# `etcd-client` 3.5.16 are static Go binaries that run on Debian 12.
#
# Downloaded from trixie with a SEPARATE sources list and apt state/cache directories (the machine's own
# sources, state and packages are never touched, nothing is upgraded) and extracted with `dpkg-deb -x` into
# $DEST; the test runs $DEST/usr/bin/etcd and $DEST/usr/bin/etcdctl. Same method as 20-trixie-patroni.sh.
set -euo pipefail
VERSION=3.5.16
DEST=${ETCD35_DIR:-/opt/opscenter-test/etcd-3.5.16}
if [ -f "$DEST/.installed-$VERSION" ]; then
    echo "  etcd $VERSION: present in $DEST"
    exit 0
fi
# The Debian mirror host from the machine's own apt configuration (deb822 or one-line format).
MIRROR=$( (grep -h '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' || true; \
           grep -h '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '{print $2}' || true) \
          | grep -E '/debian/?$' | head -n1 || true)
if [ -z "$MIRROR" ]; then echo "  no Debian mirror found in /etc/apt/sources.list*" >&2; exit 1; fi
KEYRING=/usr/share/keyrings/debian-archive-trixie-stable.gpg
[ -f "$KEYRING" ] || KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/lists/partial" "$WORK/archives/partial" "$WORK/etc/preferences.d" "$WORK/etc/sources.list.d"
echo "deb [signed-by=$KEYRING] ${MIRROR%/} trixie main" > "$WORK/sources.list"
APT_OPTS=(
    -o "Dir::Etc::SourceList=$WORK/sources.list" -o "Dir::Etc::SourceParts=$WORK/etc/sources.list.d"
    -o "Dir::Etc::Preferences=$WORK/etc/preferences" -o "Dir::Etc::PreferencesParts=$WORK/etc/preferences.d"
    -o "Dir::State::Lists=$WORK/lists" -o "Dir::State::status=$WORK/status" -o "Dir::Cache=$WORK/cache"
    -o "Dir::Cache::archives=$WORK/archives" -o "APT::Get::List-Cleanup=0" -o "Debug::NoLocking=1" -o "APT::Sandbox::User=root"
)
touch "$WORK/status"
echo "  downloading etcd-server and etcd-client $VERSION from trixie (separate apt state in $WORK)"
apt-get "${APT_OPTS[@]}" update -qq
# Any Debian revision of upstream $VERSION (trixie's is 3.5.16-4 at the time of writing).
DEBVER=$(apt-cache "${APT_OPTS[@]}" madison etcd-server | awk -v v="$VERSION" '$3 ~ "^"v"-" {print $3; exit}')
if [ -z "$DEBVER" ]; then echo "  trixie has no etcd-server $VERSION-*" >&2; exit 1; fi
(cd "$WORK" && apt-get "${APT_OPTS[@]}" download "etcd-server=$DEBVER" "etcd-client=$DEBVER" >/dev/null)
rm -rf "$DEST"
mkdir -p "$DEST"
for deb in "$WORK"/etcd-server_*.deb "$WORK"/etcd-client_*.deb; do dpkg-deb -x "$deb" "$DEST"; done
"$DEST/usr/bin/etcd" --version | head -n1
"$DEST/usr/bin/etcdctl" version | head -n1
touch "$DEST/.installed-$VERSION"
echo "  etcd $VERSION extracted to $DEST"
