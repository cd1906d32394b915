#!/bin/sh
# traefik-library-image's entrypoint.sh behaviour: options (or a config file) run traefik.
set -e
if [ "${1#-}" != "$1" ]; then
    set -- traefik "$@"
fi
exec "$@"
