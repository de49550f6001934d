#!/bin/sh
# Makes the secrets the compose services share, once, on the first `docker compose up`,
# and rotates the secret key when asked.
#
#   make-secrets.sh DIRECTORY                 make what is missing, keep what exists
#   make-secrets.sh DIRECTORY rotate-key      new secret key; the old one becomes a fallback
#   make-secrets.sh DIRECTORY drop-old-keys   forget the fallbacks (30 days after a rotation)
#
# SECRETS_OWNER: the uid that may read the files (default 10001, the app's user).
#
# Threat: well-known passwords. A starter template that ships example secrets, or asks
# people to invent some, ends up deployed with "changeme". Each secret here is 32
# random bytes from the kernel, made on the machine that runs the site, written to a
# volume and nowhere else. A secret that exists is never replaced by a plain start: the
# database keeps the password it was created with, and a new secret key would sign
# everyone out. Rotating the key is a deliberate step that signs nobody out: the old
# key stays accepted (previous_secret_keys, read as FLASK_SECRET_KEY_FALLBACKS_FILE).
set -eu

directory=${1:?usage: make-secrets.sh DIRECTORY [rotate-key|drop-old-keys]}
action=${2:-}
case "$action" in
    "" | rotate-key | drop-old-keys) ;;
    *)
        echo "unknown action: $action (rotate-key or drop-old-keys)" >&2
        exit 2
        ;;
esac
# The app's user in the Dockerfile. Redis and PostgreSQL read their file as root
# before they drop privileges, so one owner is enough.
owner=${SECRETS_OWNER:-10001}
umask 077

random_secret() {
    # 64 hex digits: safe unquoted in URLs and in Redis's configuration.
    value=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
    if [ ${#value} -ne 64 ]; then
        echo "could not read 32 random bytes" >&2
        exit 1
    fi
    printf '%s' "$value"
}

# Written aside, then renamed: a crash never leaves half a file behind.
replace() {
    file="$directory/$1"
    printf '%s' "$2" > "$file.new"
    chown "$owner" "$file.new"
    chmod 0400 "$file.new"
    mv "$file.new" "$file"
}

for name in secret_key redis_password postgres_password; do
    if [ ! -s "$directory/$name" ]; then
        replace "$name" "$(random_secret)"
        echo "made $name"
    fi
done
# Old keys still accepted, newest first, one per line; none at first.
if [ ! -e "$directory/previous_secret_keys" ]; then
    replace previous_secret_keys ""
fi

case "$action" in
    rotate-key)
        # The old key joins the fallbacks before the new key replaces it: stopped
        # half-way, the old key is in both files, which signs nobody out either.
        old_keys=$(cat "$directory/previous_secret_keys")
        replace previous_secret_keys "$(cat "$directory/secret_key")${old_keys:+
$old_keys}"
        replace secret_key "$(random_secret)"
        echo "rotated secret_key: restart the web service; drop-old-keys in 30 days"
        ;;
    drop-old-keys)
        replace previous_secret_keys ""
        echo "dropped the previous secret keys: restart the web service"
        ;;
esac
