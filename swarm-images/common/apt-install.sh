#!/bin/sh
# apt-install PKG...: installs Debian packages without recommends from the package lists of the apt-base layer;
# when those lists are stale (a version gone from the mirror), refreshes them once and retries.
set -eu
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -qq --no-install-recommends "$@"; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "$@"
fi
