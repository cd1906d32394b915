#!/bin/sh
# Stand-in for Spilo's /launch.sh (zalando/spilo postgres-appliance/launch.sh): same steps, except that Patroni
# runs as the container's main process (as postgres) instead of under runit, and no backup job is started.
if [ "x$1" = "xinit" ]; then
    exec /usr/bin/dumb-init -c --rewrite 1:0 -- /bin/sh /launch.sh
fi

mkdir -p "$PGLOG" "$PGDATA" "$RW_DIR/postgresql" "$RW_DIR/tmp" "$RW_DIR/certs"
if [ "$(id -u)" -ne 0 ]; then
    sed -e "s/^postgres:x:[^:]*:[^:]*:/postgres:x:$(id -u):$(id -g):/" /etc/passwd > "$RW_DIR/tmp/passwd"
    cat "$RW_DIR/tmp/passwd" > /etc/passwd
    rm "$RW_DIR/tmp/passwd"
fi
for i in $(seq 0 7); do
    [ -f "${PGLOG}/postgresql-$i.csv" ] || touch "${PGLOG}/postgresql-$i.csv"
done
chown -R postgres: "$PGROOT" "$RW_DIR/certs"
chmod -R go-w "$PGROOT"
chmod 01777 "$RW_DIR/tmp"
chmod 0700 "$PGDATA"

python3 /scripts/configure_spilo.py || exit 1

if [ "$(id -u)" = "0" ]; then
    exec setpriv --reuid=postgres --regid=postgres --init-groups env HOME="$PGHOME" patroni "$PGHOME/postgres.yml"
fi
exec env HOME="$PGHOME" patroni "$PGHOME/postgres.yml"
