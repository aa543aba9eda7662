#!/bin/sh
# One image, two runtimes: AWS Lambda sets AWS_LAMBDA_RUNTIME_API, so run the runtime interface
# client with the Lambda handler; anywhere else, serve HTTP on $PORT with BentoML's CLI
# (MODELOPS_WORKERS worker processes, default 1).
set -eu
if [ -n "${AWS_LAMBDA_RUNTIME_API:-}" ]; then
    exec python -m awslambdaric services.lambda_handler.handler
fi
exec bentoml serve services.classifier:Classifier --host 0.0.0.0 --port "${PORT:-3000}" "$@"
