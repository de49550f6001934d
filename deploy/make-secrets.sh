#!/bin/sh
# Makes the secrets the compose services share, once, on the first `docker compose up`.
#
#   make-secrets.sh DIRECTORY        (SECRETS_OWNER: the uid that may read them, default 10001)
#
# Threat: well-known passwords. A starter template that ships example secrets, or asks
# people to invent some, ends up deployed with "changeme". Each secret here is 32
# random bytes from the kernel, made on the machine that runs the site, written to a
# volume and nowhere else. A secret that exists is never replaced: the database keeps
# the password it was created with, and a new secret key would sign everyone out
# (rotating it is a deliberate step, see README).
set -eu

directory=${1:?usage: make-secrets.sh DIRECTORY}
# The app's user in the Dockerfile. Redis and PostgreSQL read their file as root
# before they drop privileges, so one owner is enough.
owner=${SECRETS_OWNER:-10001}
umask 077

for name in secret_key redis_password postgres_password; do
    file="$directory/$name"
    if [ ! -s "$file" ]; then
        # 64 hex digits: safe unquoted in URLs and in Redis's configuration.
        value=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
        if [ ${#value} -ne 64 ]; then
            echo "could not read 32 random bytes for $name" >&2
            exit 1
        fi
        # Written aside, then renamed: a crash never leaves half a secret behind.
        printf '%s' "$value" > "$file.new"
        mv "$file.new" "$file"
        echo "made $name"
    fi
    chown "$owner" "$file"
    chmod 0400 "$file"
done
