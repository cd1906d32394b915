#!/bin/sh
# trixie-download.sh DEST PACKAGE...: downloads Debian 13 (trixie) .debs of PACKAGE... into DEST with a SEPARATE
# sources list and apt state (the image's own apt sources and state are untouched, nothing is upgraded), from the
# same mirror as the image's bookworm sources. Used for pure-Python or static-Go packages that run on Debian 12.
set -eu
dest=$1; shift
mirror=$(sed -n 's/^deb \(http[^ ]*\/debian\) bookworm main$/\1/p' /etc/apt/sources.list | head -1)
[ -n "$mirror" ] || { echo "trixie-download: no bookworm mirror in /etc/apt/sources.list" >&2; exit 1; }
keyring=/usr/share/keyrings/debian-archive-trixie-stable.gpg
[ -f "$keyring" ] || keyring=/usr/share/keyrings/debian-archive-keyring.gpg
work=$(mktemp -d)
mkdir -p "$work/lists/partial" "$work/archives/partial" "$work/etc/sources.list.d" "$work/etc/preferences.d" "$dest"
touch "$work/status"
echo "deb [signed-by=$keyring] $mirror trixie main" > "$work/sources.list"
opts="-o Dir::Etc::SourceList=$work/sources.list -o Dir::Etc::SourceParts=$work/etc/sources.list.d \
 -o Dir::Etc::Preferences=$work/etc/preferences -o Dir::Etc::PreferencesParts=$work/etc/preferences.d \
 -o Dir::State::Lists=$work/lists -o Dir::State::status=$work/status -o Dir::Cache=$work/cache \
 -o Dir::Cache::archives=$work/archives -o APT::Get::List-Cleanup=0 -o Debug::NoLocking=1 -o APT::Sandbox::User=root"
# shellcheck disable=SC2086
apt-get $opts update -qq
# shellcheck disable=SC2086
(cd "$dest" && apt-get $opts download "$@")
rm -rf "$work"
ls -l "$dest"
