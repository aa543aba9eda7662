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
from services.speedups import defer_proxy_import
from services.bentoml_private import PROXY_MODULE, missing_internals
defer_proxy_import()
stand_in = sys.modules[PROXY_MODULE]
from services.classifier import Classifier
Classifier.to_asgi(is_main=True)
print("aiohttp after the app is built:", "aiohttp" in sys.modules)
assert sys.modules[PROXY_MODULE] is stand_in
real = stand_in.load_real_module()
print("aiohttp once the real module loads:", "aiohttp" in sys.modules)
assert sys.modules[PROXY_MODULE] is real and real is not stand_in
real.create_proxy_app = lambda *args, **kwargs: ("real", args, kwargs)
print("the stand-in hands over:", stand_in.create_proxy_app(1, x=2) == ("real", (1,), {"x": 2}))
print("other names hand over:", stand_in.__getattr__("create_proxy_app") is real.create_proxy_app)
print("problems:", missing_internals())
"""


def test_the_proxy_and_aiohttp_load_only_when_first_used(binary):
    """In a fresh interpreter: the app builds without aiohttp; the stand-in hands over to it."""
    import os
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", STAND_IN_CHECK], capture_output=True, text=True, timeout=120,
        env={**os.environ, "MODELOPS_MODEL_TAG": binary["tag"]},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.splitlines() == [
        "aiohttp after the app is built: False",
        "aiohttp once the real module loads: True",
        "the stand-in hands over: True",
        "other names hand over: True",
        "problems: []",
    ]
