#!/usr/bin/env bash
# Create the secret files docker-compose.yml mounts, if they do not exist yet:
#   secret_key          Django's SECRET_KEY (read through SECRET_KEY_FILE)
#   postgres_password   the PostgreSQL password (read by the postgres image through POSTGRES_PASSWORD_FILE)
#   database_url        postgres://parley:<that password>@postgres:5432/parley (DATABASE_URL_FILE)
#   smtp_url            empty: SMTP_URL (SMTP_URL_FILE), outgoing email; write yours into it
#   twilio_auth_token   empty: TWILIO_AUTH_TOKEN (TWILIO_AUTH_TOKEN_FILE), SMS; write yours into it
# Usage: deploy/make-secrets.sh [directory]   (default: deploy/secrets, or $PARLEY_SECRETS_DIR)
#
# The directory is private (0700) on the host; the files in it are world-readable (0444) because
# Compose bind-mounts them with their host permissions and Parley runs as an unprivileged user in
# its container. Existing files are left alone: rotating a key is a deliberate act (docs/deployment.md).
set -euo pipefail
dir="${1:-${PARLEY_SECRETS_DIR:-$(dirname "$0")/secrets}}"
mkdir -p "$dir"
chmod 0700 "$dir"

token() { python3 -c 'import secrets, sys; sys.stdout.write(secrets.token_urlsafe(int(sys.argv[1])))' "$1"; }

write() {  # write NAME VALUE: create $dir/NAME unless it exists
  if [ -e "$dir/$1" ]; then
    echo "kept    $dir/$1"
  else
    (umask 0222; printf '%s' "$2" >"$dir/$1")
    echo "created $dir/$1"
  fi
}

write secret_key "$(token 50)"
if [ ! -e "$dir/postgres_password" ]; then
  # token_urlsafe uses only URL-safe characters, so the password needs no escaping in the URL.
  password="$(token 24)"
  write postgres_password "$password"
  write database_url "postgres://parley:${password}@postgres:5432/parley"
else
  echo "kept    $dir/postgres_password"
  [ -e "$dir/database_url" ] || { echo "error: $dir/database_url is missing but postgres_password exists" >&2; exit 1; }
  echo "kept    $dir/database_url"
fi
# Compose refuses to start without a secret's file, so the optional channels get empty ones (empty is
# off); run this again after an upgrade to create those a newer docker-compose.yml mounts.
write smtp_url ""
write twilio_auth_token ""
