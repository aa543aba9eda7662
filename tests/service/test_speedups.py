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
