#!/bin/bash
# scripts/postgres_failover.sh
#
# BASELINE ONLY - DO NOT DEPLOY. This is the failover loop from the user's design document
# (ha-architecture.md, "3. PostgreSQL", "Failover Script (Patroni Alternative)"), kept so that the
# chaos test test/chaos/baseline.test.ts and the benchmark case bench/cases/baseline.ts can measure
# it on the same machine as the Patroni setup we actually deploy. See DESIGN.md, fix 2: it has no
# consensus and no fencing, it exits after one promotion, and when the old primary is restarted
# (Swarm's restart policy does that) it comes back as a second primary.
#
# Adapted, logic unchanged:
#   - `docker exec <container> CMD` is replaced by running CMD directly; pg_isready therefore needs
#     the host and port (inside the container it used the local socket), and pg_ctl must run on the
#     standby's machine as the owner of its data directory (the `postgres` user).
#   - Hosts, ports, data dir, interval and user are environment variables whose defaults are the
#     document's values. The 10 s re-check delay and the control flow are as in the document.
#   - The Traefik line is dropped: Traefik has no `traefik config set` command (it takes its routing
#     from providers, not from a CLI), so the line could only fail, and without `set -e` a failure
#     there changes nothing in the script's flow. In the measurement the clients connect to the
#     standby's port themselves, which is the best case for the document's approach.
# Deliberately NOT fixed: no `set -e`/`-u`, the single promotion followed by `exit 0`, and nothing
# at all done to the old primary (no fencing, no demotion, no pg_rewind).

PRIMARY_HOST="${PRIMARY_HOST:-postgresql-primary}"
PRIMARY_PORT="${PRIMARY_PORT:-5432}"
STANDBY_HOST="${STANDBY_HOST:-postgresql-standby}"   # only used by the dropped Traefik line
STANDBY_DATA_DIR="${STANDBY_DATA_DIR:-/var/lib/postgresql/data}"
PG_USER="${PG_USER:-unicorn}"
HEALTH_CHECK_INTERVAL="${HEALTH_CHECK_INTERVAL:-5}"

check_primary() {
  pg_isready -h "$PRIMARY_HOST" -p "$PRIMARY_PORT" -U "$PG_USER" > /dev/null 2>&1
  return $?
}

promote_standby() {
  echo "Primary is down. Promoting standby..."
  pg_ctl promote -D "$STANDBY_DATA_DIR"

  # Update Traefik to point to new primary
  # (dropped, see the header: `traefik config set --entryPoint=postgres --address=$STANDBY_HOST:5432`)

  echo "Failover complete. Standby is now primary."
}

while true; do
  if ! check_primary; then
    echo "Primary health check failed."
    sleep 10
    if ! check_primary; then
      promote_standby
      exit 0
    fi
  fi
  sleep $HEALTH_CHECK_INTERVAL
done
