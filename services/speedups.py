"""Per-request work BentoML 1.4.39 repeats that this service does not need (profiled with py-spy).

Each patch is small, idempotent and keeps BentoML's behaviour; each says what it saves.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from typing import Any


def cache_api_callers() -> None:
    """Build each API's local caller once per service instance, not once per request.

    BentoML's HTTP endpoint reads `getattr(service_instance, api_name).local` on every request;
    that descriptor runs `inspect.signature` and wraps the method anew each time: ~5% of a
    single-row request's CPU under load (py-spy, `make bench-serve` c=16). The caller depends
    only on the method and the instance, so it is cached on the instance.
    """
    from services.bentoml_private import APIMethod

    original = APIMethod._local_call
    if getattr(original, "cached_per_instance", False):
        return

    def local_call(self: Any, instance: Any) -> Any:
        cache = instance.__dict__.setdefault("_api_local_callers", {})
        caller = cache.get(self.name)
        if caller is None:
            caller = cache[self.name] = original(self, instance)
        return caller

    local_call.cached_per_instance = True  # type: ignore[attr-defined]
    APIMethod._local_call = local_call


@contextlib.contextmanager
def no_gc_while_loading() -> Iterator[None]:
    """Pause the cyclic garbage collector while the service's modules and model load.

    Start-up creates hundreds of thousands of objects that all stay alive (modules, classes,
    the model), so every collection it triggers scans them and frees nothing: about 0.3-0.5 s
    of a ~3 s cold start here (`make bench-serve`). The collector is back on when the block
    ends, as it was before, whatever happens inside.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
