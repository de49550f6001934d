#!/bin/sh
# What the official PostgreSQL image's entry point does with the settings the compose
# file uses: POSTGRES_USER, POSTGRES_DB and POSTGRES_PASSWORD, each also as *_FILE.
# On an empty data folder it makes the cluster, lets the user in from other containers
# by password only, and creates the database, with a temporary server that listens on
# the Unix socket only; then it starts the real server as the postgres user.
set -eu

# VAR from the environment, or read from the file that VAR_FILE names; DEFAULT if neither.
file_env() {
    var=$1
    eval "value=\${$var:-}"
    eval "file=\${${var}_FILE:-}"
    if [ -n "$value" ] && [ -n "$file" ]; then
        echo "error: both $var and ${var}_FILE are set (but are exclusive)" >&2
        exit 1
    fi
    if [ -n "$file" ]; then
        value=$(cat "$file")
    fi
    export "$var=${value:-${2:-}}"
    unset "${var}_FILE"
}

# A first argument that is an option is meant for postgres.
if [ "${1#-}" != "$1" ]; then
    set -- postgres "$@"
fi

if [ "$1" = postgres ]; then
    # Read while still root: a secret file may be readable by root only. The values
    # go on in the environment to this same script, run again as postgres below.
    file_env POSTGRES_PASSWORD
    file_env POSTGRES_USER postgres
    file_env POSTGRES_DB "$POSTGRES_USER"
    file_env POSTGRES_INITDB_ARGS

    if [ "$(id -u)" = 0 ]; then
        mkdir -p "$PGDATA" /var/run/postgresql
        find "$PGDATA" \! -user postgres -exec chown postgres '{}' +
        chmod 700 "$PGDATA"
        chown postgres /var/run/postgresql
        chmod 3777 /var/run/postgresql
        # The official image uses su-exec; util-linux's setpriv does the same here.
        exec /usr/bin/setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
    fi

    if [ ! -s "$PGDATA/PG_VERSION" ]; then
        if [ -z "$POSTGRES_PASSWORD" ] && [ "${POSTGRES_HOST_AUTH_METHOD:-}" != trust ]; then
            echo "error: the database is uninitialized and no superuser password is given (POSTGRES_PASSWORD)" >&2
            exit 1
        fi
        # shellcheck disable=SC2086 # extra initdb arguments, split as the official image does
        printf '%s\n' "$POSTGRES_PASSWORD" | initdb --username="$POSTGRES_USER" --pwfile=/dev/stdin $POSTGRES_INITDB_ARGS
        # Local connections stay trusted (initdb's default); from elsewhere, a password.
        printf '\nhost all all all %s\n' "${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}" >> "$PGDATA/pg_hba.conf"

        export PGPASSWORD="${PGPASSWORD:-$POSTGRES_PASSWORD}"
        pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p 5432" -w start
        if [ "$POSTGRES_DB" != postgres ]; then
            psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc \
                --dbname postgres --set db="$POSTGRES_DB" <<'SQL'
CREATE DATABASE :"db";
SQL
        fi
        pg_ctl -D "$PGDATA" -m fast -w stop
        unset PGPASSWORD
        echo "PostgreSQL init process complete; ready for start up."
    fi
fi

exec "$@"
