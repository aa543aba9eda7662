"""BentoML patches of services.speedups: same behaviour, less per-request work."""

import pytest

pytestmark = pytest.mark.xdist_group("service")


def test_the_api_caller_is_built_once_per_instance_and_still_calls_the_method(service_module):
    from services.bentoml_private import APIMethod

    service_module.cache_api_callers()  # idempotent: patching twice keeps one cache
    assert APIMethod._local_call.cached_per_instance
    first, second = service_module.Classifier.inner(), service_module.Classifier.inner()
    assert first.predict.local is first.predict.local  # what BentoML reads per request
    assert first.predict.local is not second.predict.local  # bound to its own instance
    assert first.predict.local.__wrapped__ is service_module.Classifier.inner.predict.func


def test_the_collector_is_off_while_loading_and_back_as_it_was_after():
    import gc

    from services.speedups import no_gc_while_loading

    assert gc.isenabled()
    with pytest.raises(RuntimeError), no_gc_while_loading():
        assert not gc.isenabled()
        raise RuntimeError("a failed import")
    assert gc.isenabled()  # back on, though the block failed
    gc.disable()
    try:
        with no_gc_while_loading():
            pass
        assert not gc.isenabled()  # whoever turned it off keeps it off
    finally:
        gc.enable()


STAND_IN_CHECK = """
import sys
from services.speedups import DEFERRED, defer_unused_imports
defer_unused_imports()
stand_ins = {module: sys.modules[module] for module, _, _ in DEFERRED}
from starlette.testclient import TestClient
from services.bentoml_private import missing_internals
from services.classifier import Classifier
with TestClient(Classifier.to_asgi(is_main=True)) as client:  # startup runs: the model loads
    print("ready:", client.get("/readyz").status_code)
unused = ("pyparsing", "circus", "zmq", "tornado")
print("loaded by a start:", [name for name in unused if name in sys.modules])
print("stand-ins in place:", all(sys.modules[m] is s for m, s in stand_ins.items()))
for module, function, _ in DEFERRED:
    stand_in = stand_ins[module]
    real = stand_in.load_real_module()
    assert sys.modules[module] is real and real is not stand_in, module
    setattr(real, function, lambda *args, **kwargs: ("real", args, kwargs))
    calls = getattr(stand_in, function)(1, x=2) == ("real", (1,), {"x": 2})
    names = stand_in.__getattr__(function) is getattr(real, function)
    print(module, "hands over:", calls, names)
print("loaded once used:", [name for name in unused if name in sys.modules])
print("problems:", missing_internals())
"""


def test_modules_the_service_never_calls_load_only_when_first_used(binary):
    """In a fresh interpreter: a start loads none of them; each stand-in hands over to its own."""
    import os
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", STAND_IN_CHECK], capture_output=True, text=True, timeout=120,
        env={**os.environ, "MODELOPS_MODEL_TAG": binary["tag"]},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.splitlines() == [
        "ready: 200",
        "loaded by a start: []",
        "stand-ins in place: True",
        "_bentoml_impl.server.proxy hands over: True True",
        "_bentoml_impl.server.serving hands over: True True",
        "loaded once used: ['pyparsing', 'circus', 'zmq', 'tornado']",
        "problems: []",
    ]
