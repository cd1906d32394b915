#!/bin/sh
# docker-library/redis's docker-entrypoint.sh behaviour: a first argument that is an option or a .conf file runs
# redis-server; as root, redis-server is run as the redis user after chowning its data directory.
set -e
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
    set -- redis-server "$@"
fi
if [ "$1" = 'redis-server' ] && [ "$(id -u)" = '0' ]; then
    find . \! -user redis -exec chown redis '{}' +
    exec setpriv --reuid=redis --regid=redis --init-groups "$0" "$@"
fi
umask 0077
exec "$@"
