#!/bin/sh
# What the official Redis image's entry point does: start as root, give the data
# folder to the redis user, then run redis-server as that user.
set -e

# A first argument that is an option or a config file is meant for redis-server.
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
    set -- redis-server "$@"
fi

if [ "$1" = redis-server ] && [ "$(id -u)" = 0 ]; then
    find . \! -user redis -exec chown redis '{}' +
    # The official image uses su-exec; util-linux's setpriv does the same here
    # (BusyBox's setpriv, first on PATH, cannot change users).
    # Standard input goes along: "redis-server -" reads its configuration from it.
    exec /usr/bin/setpriv --reuid=redis --regid=redis --init-groups "$0" "$@"
fi

# Files made by Redis stay private unless a umask was chosen.
if [ "$(umask)" = 0022 ]; then
    umask 0077
fi

exec "$@"
