#!/bin/sh
# docker-library/haproxy's docker-entrypoint.sh behaviour: `-f ...` args run haproxy; `haproxy` runs in master-worker
# mode (-W) with the database off (-db), so that it stays in the foreground.
set -e
if [ "${1#-}" != "$1" ]; then
    set -- haproxy "$@"
fi
if [ "$1" = 'haproxy' ]; then
    shift
    set -- haproxy -W -db "$@"
fi
exec "$@"
