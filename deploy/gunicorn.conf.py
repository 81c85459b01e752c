"""gunicorn for Parley's HTTP in production: `gunicorn -c deploy/gunicorn.conf.py contact_center.wsgi`.

docker-compose.yml runs it as the `http1`, `http2` services; nginx sends them every request but the
WebSockets under /ws/, which stay on daphne (`manage.py serve --roles web`). Why: docs/decisions.md D21,
the figures in docs/benchmarks.md ("Servers"). The one-process default (`manage.py serve`) does not use
this file: it keeps HTTP inside daphne through contact_center/wsgi_bridge.py (D14).

Settings named here are the ones production depends on; the rest are gunicorn's defaults. Options on
gunicorn's command line override this file (the tests bind a loopback port that way). Variables are read
with Parley's own parser (contact_center/lib/env.py): a value that does not parse stops the server at
start-up, naming the variable, and NAME_FILE works as for every setting (docs/configuration.md).
"""

from contact_center.lib import env

# The container's port; only nginx reaches it (docker-compose.yml publishes none but the proxy's).
bind = ["0.0.0.0:8001"]
# As `serve` gives daphne: a burst of reconnecting browsers queues instead of retrying SYNs.
backlog = 1024

# gthread: each worker process runs requests on a pool of threads and keeps idle keep-alive connections
# in its event loop, so nginx's upstream keep-alive is reused. The measured shape is 2 workers x 4 threads
# per node (one process per core, 8 threads as daphne's one process had): less server CPU per page than
# daphne's bridge at the same pages/s (docs/benchmarks.md). `sync` workers close every connection.
worker_class = "gthread"
workers = env.get_int("PARLEY_HTTP_WORKERS", 2, minimum=1)
# Threads per worker process: the setting that sizes daphne's HTTP pool (8 there, one process) sizes each
# gunicorn worker's here. Each thread holds a database connection while it works, so keep it below
# DATABASE_POOL_MAX_SIZE (every worker process has its own pool).
threads = env.get_int("PARLEY_HTTP_THREADS", 4, minimum=1)
# Not preloaded: every worker imports Django and opens its own database pool after the fork, as each
# daphne process does. Nothing is shared across a fork (no connection, pool or thread made in the master).
preload_app = False

# nginx keeps idle upstream connections for 60 s (its `keepalive_timeout` default in an upstream block).
# gunicorn must keep them longer, or it closes one just as nginx sends a request on it (a 502).
keepalive = 75
# docker-compose.yml gives each http node stop_grace_period: 20s before SIGKILL. On SIGTERM gunicorn stops
# accepting and lets requests in progress finish for this long, so it exits on its own before Docker kills it.
graceful_timeout = 15
# The workers' heartbeat file, on memory: a disk-backed /tmp can stall the heartbeat (gunicorn's docs,
# "Blocking os.fchmod"), and the master would then kill a healthy worker.
worker_tmp_dir = "/dev/shm"  # noqa: S108  (a directory for gunicorn's own files, not a shared name)
# The run-time control socket (`gunicornc`) is not used; it would be a file under $HOME, not writable here.
control_socket_disable = True

# No access log: nginx writes the one access log (deploy/nginx.conf), without query strings, a rule made
# for the widget socket's ?token=. gunicorn's format logs the full request line, query string included,
# and a second log of every request would be one more place for what the URLs carry (attachment links
# are bearer tokens in the path, contact_center/lib/attachment_links.py). Errors go to stderr, the
# container's log (gunicorn's default).
accesslog = None

# Proxy headers, the same rule as daphne's (contact_center/management/commands/serve.py): trusted only with
# PARLEY_TRUST_X_FORWARDED_FOR, which says every request comes through a proxy that overwrites them
# (deploy/nginx.conf sets X-Forwarded-For and X-Forwarded-Proto, whatever the client sent). Then "*": the
# http nodes are reachable only from nginx on the compose network, and nginx's address there is not fixed.
# Trusted, X-Forwarded-Proto sets the request's scheme (request.scheme, request.is_secure()); the client's
# address is read from X-Forwarded-For by Parley itself (contact_center/lib/ratelimit.py), not by gunicorn.
# Not trusted, no address is, not even loopback (gunicorn's own default trusts 127.0.0.1): a client that
# reaches gunicorn directly cannot pick its scheme. With an https PUBLIC_BASE_URL, Django's
# SECURE_PROXY_SSL_HEADER (settings.py) reads X-Forwarded-Proto as well, whichever server answers.
forwarded_allow_ips = "*" if env.get_bool("PARLEY_TRUST_X_FORWARDED_FOR", default=False) else ""
# Only the header nginx sets. gunicorn's default also honours X-Forwarded-Ssl and X-Forwarded-Protocol,
# which nginx passes through from the client unchanged: a client could then contradict nginx's header
# (gunicorn answers 400) or, were nginx's header absent, choose the scheme.
secure_scheme_headers = {"X-FORWARDED-PROTO": "https"}
