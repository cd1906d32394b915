#!/usr/bin/env bash
# Debian 12's real daemons for the chaos tests, and the tools the tests call. apt-get runs only when a
# package is missing.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
PACKAGES=(
    postgresql postgresql-client patroni etcd-server etcd-client
    redis-server redis-tools redis-sentinel keepalived haproxy
    prometheus-blackbox-exporter prometheus prometheus-alertmanager
    cloud-init iproute2 procps curl python3 util-linux
)
# cloud-init is installed only for `cloud-init schema` (the hosts' user data): never let it configure this machine at boot.
mkdir -p /etc/cloud && touch /etc/cloud/cloud-init.disabled
missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "  installing ${#missing[@]} Debian packages: ${missing[*]}"
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    # Debian starts some of these as services on install; the tests start their own on other ports.
    for svc in postgresql redis-server redis-sentinel etcd keepalived haproxy prometheus prometheus-alertmanager prometheus-blackbox-exporter; do
        (service "$svc" stop >/dev/null 2>&1 || true)
    done
else
    echo "  Debian packages: all ${#PACKAGES[@]} present"
fi
