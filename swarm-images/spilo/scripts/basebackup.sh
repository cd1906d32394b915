#!/bin/bash
# Stand-in for Spilo's /scripts/basebackup.sh (Patroni's basebackup_fast_xlog replica method): pg_basebackup of the
# leader with a fast checkpoint, streaming WAL. Patroni passes --scope, --role, --datadir and --connstring.
set -eu
for arg in "$@"; do
    case $arg in
        --datadir=*) DATA_DIR=${arg#*=} ;;
        --connstring=*) CONNSTR=${arg#*=} ;;
    esac
done
exec pg_basebackup --pgdata="${DATA_DIR:?--datadir}" --wal-method=stream --checkpoint=fast --dbname="${CONNSTR:?--connstring}"
