#!/bin/sh
# One image, two runtimes: AWS Lambda sets AWS_LAMBDA_RUNTIME_API, so run the runtime interface
# client with the Lambda handler; anywhere else, serve HTTP on $PORT (one process; MODELOPS_WORKERS
# above 1 hands over to `bentoml serve`).
set -eu
if [ -n "${AWS_LAMBDA_RUNTIME_API:-}" ]; then
    exec python -m awslambdaric services.lambda_handler.handler
fi
exec python -m services.serve --host 0.0.0.0 --port "${PORT:-3000}" "$@"
