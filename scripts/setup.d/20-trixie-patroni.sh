#!/usr/bin/env bash
# Patroni 4.0.7, the Patroni line that Spilo 4.0 runs, for the Postgres chaos tests and benchmarks. Debian 12
# ships Patroni 3.0.2; Debian 13 (trixie)'s `patroni` 4.0.7 is pure Python and runs on Debian 12's Python 3.11
# with Debian 12's dependencies (python3-psycopg2, -etcd3/-urllib3, -yaml, -click, -prettytable, -dateutil,
# -psutil, -ydiff, all installed with Debian 12's patroni by 10-debian-packages.sh).
#
# The package is downloaded from trixie with a SEPARATE sources list and apt state/cache directories (the
# machine's own sources, state and packages are never touched, nothing is upgraded) and extracted with
# `dpkg-deb -x` into $DEST; the tests run it as `/usr/bin/python3 $DEST/usr/bin/patroni` with PYTHONPATH set.
# The mirror is the one the machine's apt configuration already uses.
set -euo pipefail
VERSION=4.0.7
DEST=${PATRONI4_DIR:-/opt/opscenter-test/patroni-4.0.7}
if [ -f "$DEST/.installed-$VERSION" ]; then
    echo "  Patroni $VERSION: present in $DEST"
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
echo "  downloading patroni $VERSION from trixie (separate apt state in $WORK)"
apt-get "${APT_OPTS[@]}" update -qq
# Any Debian revision of upstream $VERSION (trixie's is 4.0.7-3~deb13u1 at the time of writing).
DEBVER=$(apt-cache "${APT_OPTS[@]}" madison patroni | awk -v v="$VERSION" '$3 ~ "^"v"-" {print $3; exit}')
if [ -z "$DEBVER" ]; then echo "  trixie has no patroni $VERSION-*" >&2; exit 1; fi
(cd "$WORK" && apt-get "${APT_OPTS[@]}" download "patroni=$DEBVER" >/dev/null)
rm -rf "$DEST"
mkdir -p "$DEST"
dpkg-deb -x "$WORK"/patroni_*.deb "$DEST"
PYTHONPATH="$DEST/usr/lib/python3/dist-packages" /usr/bin/python3 "$DEST/usr/bin/patroni" --version
touch "$DEST/.installed-$VERSION"
echo "  Patroni $VERSION extracted to $DEST"
