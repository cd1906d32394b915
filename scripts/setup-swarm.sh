#!/usr/bin/env bash
# Setup of the Swarm test tier (`npm run test:swarm`, `npm run bench:swarm`; not part of `npm test`): Debian's Docker Engine and the tools of the lab (network namespaces, a
# bridge, iptables), the cached Debian 12 base root filesystem (debootstrap, once) and the stand-in images
# (swarm-images/, built once on a builder engine whose layer cache lives in /var/cache/opscenter-test).
# The machine's own docker.service is not used (the lab starts one dockerd per plan host in namespaces).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then exec sudo -E bash "$0" "$@"; fi
    echo "swarm setup: needs root (apt-get, network namespaces, dockerd)" >&2
    exit 1
fi
echo "swarm setup: Docker Engine, lab tools, base image and stand-in images (cold: about 4 min on a quiet machine with a fast mirror, measured 213 s on 2026-12-07; warm: seconds)"
PACKAGES=(docker.io debootstrap iptables iproute2 util-linux tar)
missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "  installing ${#missing[@]} Debian packages: ${missing[*]}"
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    # Debian may start docker.service on install; the lab does not use it (it runs its own engines).
    if [[ " ${missing[*]} " == *" docker.io "* ]]; then (service docker stop >/dev/null 2>&1 || true); fi
else
    echo "  Docker Engine and lab tools: all ${#PACKAGES[@]} present ($(dockerd --version | cut -d, -f1))"
fi
bash swarm-images/build-base.sh
if [ -f test/swarm/images.ts ] && [ "${SKIP_SWARM_IMAGES:-}" != 1 ]; then
    node --import tsx test/swarm/images.ts build
fi
