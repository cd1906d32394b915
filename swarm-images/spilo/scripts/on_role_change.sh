#!/bin/sh
# Stand-in for Spilo's /scripts/on_role_change.sh: Spilo restarts pgq and runs the callback; here only the callback.
shift
exec "$@"
