#!/usr/bin/env bash
# Validate docker-compose.yml without a Docker engine: the file must parse and pass Compose's schema
# with the example settings, must refuse to render without the mandatory ones, and every web node
# (daphne, port 8000) must be in nginx's parley_web upstream and every http node (gunicorn, port 8001) in
# its parley_http upstream (and the other way round). Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

compose="${DOCKER_COMPOSE:-docker-compose}"
command -v "$compose" >/dev/null 2>&1 || { echo "validate-compose: $compose is not installed" >&2; exit 1; }
version="$("$compose" version)"   # not piped into head: SIGPIPE would fail the script under pipefail
echo "${version%%$'\n'*}"

# Keep the caller's environment and any local .env out of the check: only the example counts.
unset PARLEY_PUBLIC_BASE_URL PARLEY_ALLOWED_HOSTS PARLEY_HTTP_PORT PARLEY_VERSION PARLEY_SECRETS_DIR LOG_LEVEL \
  PARLEY_MAIL_FROM TWILIO_ACCOUNT_SID TWILIO_API_URL
empty_env="$(mktemp)"
trap 'rm -f "$empty_env"' EXIT

"$compose" --env-file deploy/env.example -f docker-compose.yml config -q
echo "docker-compose.yml is valid with deploy/env.example"

if "$compose" --env-file "$empty_env" -f docker-compose.yml config -q 2>/dev/null; then
  echo "validate-compose: docker-compose.yml renders without PARLEY_PUBLIC_BASE_URL; it must refuse" >&2
  exit 1
fi
echo "docker-compose.yml refuses to render without PARLEY_PUBLIC_BASE_URL / PARLEY_ALLOWED_HOSTS"

all_services="$("$compose" --env-file deploy/env.example -f docker-compose.yml config --services)"

# check_upstream KIND UPSTREAM PORT: the compose services KIND1, KIND2... are exactly the servers of
# nginx's upstream UPSTREAM, each on PORT.
check_upstream() {
  local kind="$1" name="$2" port="$3" services upstream
  services="$(grep -E "^${kind}[0-9]+\$" <<<"$all_services" | sort || true)"
  upstream="$(sed -n "/^upstream ${name} {/,/^}/p" deploy/nginx.conf \
    | sed -nE "s/^[[:space:]]*server[[:space:]]+(${kind}[0-9]+):${port}([[:space:];]).*/\\1/p" | sort)"
  if [ -z "$services" ] || [ "$services" != "$upstream" ]; then
    echo "validate-compose: $kind services and nginx upstream $name (port $port) differ:" >&2
    echo "  compose: $(echo $services)" >&2
    echo "  nginx:   $(echo $upstream)" >&2
    exit 1
  fi
  echo "nginx upstream $name lists every $kind node: $(echo $services)"
}
check_upstream web parley_web 8000
check_upstream http parley_http 8001
