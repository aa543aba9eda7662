"""Invoke the Lambda handler in a process of its own, as a Lambda container would.

Reads one event (JSON) per stdin line and writes one line per event: the handler's response and
how many services (model loads) exist so far (the model must load once, at cold start).
"""

import json
import sys

from modelops.serving import answers

instances = 0
_original_init = answers.Service.__init__


def _counting_init(self, *args, **kwargs):
    global instances
    instances += 1
    _original_init(self, *args, **kwargs)


answers.Service.__init__ = _counting_init

from services.lambda_handler import handler  # noqa: E402 - cold start happens here
from tests.service.conftest import LambdaContext  # noqa: E402

for line in sys.stdin:
    response = handler(json.loads(line), LambdaContext())
    print(json.dumps({"response": response, "instances": instances}), flush=True)
