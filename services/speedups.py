"""Per-request work BentoML 1.4.39 repeats that this service does not need (profiled with py-spy).

Each patch is small, idempotent and keeps BentoML's behaviour; each says what it saves.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import sys
import types
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


def defer_proxy_import() -> None:
    """Import BentoML's proxy app, and aiohttp with it, only if the service ever needs it.

    `_bentoml_impl.server.app` imports `create_proxy_app` at module level, and with it aiohttp:
    ~0.18 s of a ~3 s cold start (`-X importtime`). BentoML calls it only for a service with a
    custom command, which this one is not. Until something calls it or reads another attribute,
    a stand-in module holds the place; either loads the real module and hands over to it. Call
    before BentoML builds the app (services.serve and the Lambda handler do).
    """
    from services.bentoml_private import PROXY_MODULE

    if PROXY_MODULE in sys.modules:
        return
    stand_in = types.ModuleType(PROXY_MODULE, "Stand-in: the real module loads on first use.")

    def load_real_module() -> types.ModuleType:
        if sys.modules.get(PROXY_MODULE) is stand_in:
            del sys.modules[PROXY_MODULE]
        return importlib.import_module(PROXY_MODULE)

    def create_proxy_app(*args: Any, **kwargs: Any) -> Any:
        return load_real_module().create_proxy_app(*args, **kwargs)

    stand_in.load_real_module = load_real_module  # type: ignore[attr-defined]
    stand_in.create_proxy_app = create_proxy_app  # type: ignore[attr-defined]

    def other_name(name: str) -> Any:
        if name.startswith("__"):  # what the import system probes (__path__, ...): not ours
            raise AttributeError(name)
        return getattr(load_real_module(), name)

    stand_in.__getattr__ = other_name  # type: ignore[attr-defined]
    sys.modules[PROXY_MODULE] = stand_in
