#!/usr/bin/env bash
# Builds the Debian 12 (bookworm) minbase root filesystem the stand-in images start from, once: debootstrap into
# a temporary directory, tar it to $CACHE/debian-bookworm-minbase.tar (the file `docker import` reads). Reused
# when present; delete the file to rebuild. Uses the machine's own Debian mirror (its apt sources).
set -euo pipefail
CACHE=${OPSCENTER_TEST_CACHE:-/var/cache/opscenter-test}
TAR=$CACHE/debian-bookworm-minbase.tar
if [ -s "$TAR" ]; then
    echo "  Debian base rootfs: cached ($TAR)"
    exit 0
fi
command -v debootstrap >/dev/null || { echo "debootstrap is missing: apt-get install -y debootstrap" >&2; exit 1; }
mirror=$(sed -n 's/^URIs: *\(http[^ ]*\/debian\)\/* *$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
[ -n "$mirror" ] || mirror=$(sed -n 's/^deb \(http[^ ]*\/debian\)\/* bookworm .*/\1/p' /etc/apt/sources.list 2>/dev/null | head -1)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
mkdir -p "$CACHE/debootstrap-debs"
rootfs=$(mktemp -d "$CACHE/rootfs.XXXXXX")
trap 'rm -rf "$rootfs" "$TAR.tmp"' EXIT
echo "  Debian base rootfs: debootstrap --variant=minbase bookworm from $mirror (a few minutes, once)"
t0=$(date +%s)
debootstrap --variant=minbase --cache-dir="$CACHE/debootstrap-debs" bookworm "$rootfs" "$mirror" > "$CACHE/debootstrap.log" 2>&1 \
    || { tail -20 "$CACHE/debootstrap.log" >&2; exit 1; }
# The image's apt: same suites as Debian's own debian:bookworm image, no recommends, no caches kept.
cat > "$rootfs/etc/apt/sources.list" <<SOURCES
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb ${mirror%/debian}/debian-security bookworm-security main
SOURCES
printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' > "$rootfs/etc/apt/apt.conf.d/90-no-recommends"
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
tar -C "$rootfs" --numeric-owner -cf "$TAR.tmp" .
mv "$TAR.tmp" "$TAR"
echo "  Debian base rootfs: built in $(( $(date +%s) - t0 )) s ($(du -h "$TAR" | cut -f1))"
