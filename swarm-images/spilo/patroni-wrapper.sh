#!/bin/sh
# Debian 13's Patroni 4.0.7 (pure Python), unpacked in /opt/patroni-4, on Debian 12's Python and libraries.
PYTHONPATH=/opt/patroni-4/usr/lib/python3/dist-packages${PYTHONPATH:+:$PYTHONPATH} exec /usr/bin/python3 /opt/patroni-4/usr/bin/patroni "$@"
