#!/bin/bash
# One image, two runtimes (docs/serving.md, "The image"):
# - AWS Lambda sets AWS_LAMBDA_RUNTIME_API: run the runtime interface client with the Lambda
#   handler (Lambda is the HTTP server; no front).
# - Anywhere else, serve HTTP on $PORT: `bentoml serve` (MODELOPS_WORKERS worker processes) on a
#   loopback port behind Caddy, the front that bounds headers (431 over MODELOPS_MAX_HEADER_BYTES)
#   and closes connections that send no complete headers within MODELOPS_HEADER_TIMEOUT or sit
#   idle for MODELOPS_IDLE_TIMEOUT (services/Caddyfile). MODELOPS_FRONT=off serves `bentoml serve`
#   on $PORT directly, for a host whose load balancer already enforces such limits.
# SIGTERM/SIGINT stop the front first (it finishes the requests in flight), then the service; if
# either process dies on its own, the other is stopped and the container exits non-zero.
set -euo pipefail

if [ -n "${AWS_LAMBDA_RUNTIME_API:-}" ]; then
    exec python -m awslambdaric services.lambda_handler.handler
fi

PORT="${PORT:-3000}"
case "${MODELOPS_FRONT:-on}" in
    off) exec bentoml serve services.classifier:Classifier --host 0.0.0.0 --port "$PORT" "$@" ;;
    on) ;;
    *) echo "error: MODELOPS_FRONT=${MODELOPS_FRONT} is neither 'on' nor 'off'" >&2; exit 2 ;;
esac

refuse() { echo "error: $1" >&2; exit 2; }
export PORT
export MODELOPS_MAX_HEADER_BYTES="${MODELOPS_MAX_HEADER_BYTES:-65536}"
export MODELOPS_HEADER_TIMEOUT="${MODELOPS_HEADER_TIMEOUT:-10}"
export MODELOPS_IDLE_TIMEOUT="${MODELOPS_IDLE_TIMEOUT:-75}"
for name in PORT MODELOPS_MAX_HEADER_BYTES MODELOPS_HEADER_TIMEOUT MODELOPS_IDLE_TIMEOUT; do
    [[ "${!name}" =~ ^[1-9][0-9]{0,8}$ ]] || refuse "$name=${!name} is not a positive whole number"
done
# The service's loopback port: MODELOPS_UPSTREAM_PORT, else one the kernel finds free (a fixed
# one would clash between containers that share the host's network).
if [ -z "${MODELOPS_UPSTREAM_PORT:-}" ]; then
    MODELOPS_UPSTREAM_PORT="$(python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
fi
[[ "$MODELOPS_UPSTREAM_PORT" =~ ^[1-9][0-9]{0,4}$ ]] && [ "$MODELOPS_UPSTREAM_PORT" != "$PORT" ] \
    || refuse "MODELOPS_UPSTREAM_PORT=$MODELOPS_UPSTREAM_PORT is not a port other than PORT=$PORT"
export MODELOPS_UPSTREAM_PORT
# Caddy's config and data folders: writable (the user has no home; Lambda-style read-only roots
# keep /tmp writable). Without TLS it keeps only its last config there.
export XDG_CONFIG_HOME=/tmp/caddy XDG_DATA_HOME=/tmp/caddy

service="" front=""
stop() {
    trap '' TERM INT
    [ -n "$front" ] && kill -TERM "$front" 2>/dev/null && wait "$front" || true
    [ -n "$service" ] && kill -TERM "$service" 2>/dev/null && wait "$service" || true
    exit 0
}
trap stop TERM INT

bentoml serve services.classifier:Classifier --host 127.0.0.1 --port "$MODELOPS_UPSTREAM_PORT" "$@" &
service=$!
# The front starts once the service accepts connections: until then a client is refused, as
# without a front, rather than answered 502 by a front with nothing behind it.
until (exec 3<>"/dev/tcp/127.0.0.1/$MODELOPS_UPSTREAM_PORT") 2>/dev/null; do
    if ! kill -0 "$service" 2>/dev/null; then
        wait "$service" && code=0 || code=$?
        echo "error: bentoml serve exited ($code) before it listened" >&2
        exit $((code ? code : 1))
    fi
    sleep 0.1
done
caddy run --config "$(dirname "$0")/Caddyfile" --adapter caddyfile &
front=$!
echo "front: caddy on :$PORT -> bentoml serve on 127.0.0.1:$MODELOPS_UPSTREAM_PORT" \
    "(headers <= $MODELOPS_MAX_HEADER_BYTES bytes, header timeout ${MODELOPS_HEADER_TIMEOUT} s," \
    "idle timeout ${MODELOPS_IDLE_TIMEOUT} s)"

set +e
wait -n -p exited "$service" "$front"
code=$?
set -e
[ "$exited" = "$front" ] && name="the front (caddy)" other="$service" || name="bentoml serve" other="$front"
echo "error: $name exited ($code); stopping the container" >&2
trap '' TERM INT
kill -TERM "$other" 2>/dev/null && wait "$other" || true
exit $((code ? code : 1))
