#!/bin/sh
# Stand-in for Spilo's /scripts/restore_command.sh (zalando/spilo postgres-appliance/scripts/restore_command.sh): called
# as restore_command with %f %p (under `envdir .../env-standby` for a standby cluster). Spilo execs
# `wal-g wal-fetch %f %p` when USE_WALG=true, else WAL-E. There is no WAL-G here and no bucket: every file is "not in
# the archive" (exit 1, what wal-g wal-fetch returns for a missing file), so PostgreSQL falls back to streaming from
# primary_conninfo, as a Spilo standby does while the archive lacks a file.
[ -n "${1:-}" ] && [ -n "${2:-}" ] || exit 1
echo "restore_command (stand-in): $1: not in the archive (WAL-G is not reproduced; USE_WALG=${USE_WALG:-})" >&2
exit 1
