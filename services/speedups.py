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

# (module, function, who relies on it): modules BentoML imports that this service never calls.
# Listed in services.bentoml_private too, whose missing_internals() checks the real modules.
DEFERRED: tuple[tuple[str, str, str], ...] = (
    (
        "_bentoml_impl.server.proxy",
        "create_proxy_app",
        "services.speedups defers importing it until it is called",
    ),
    (
        "_bentoml_impl.server.serving",
        "serve_http",
        "services.speedups defers importing it (and circus) until it is called",
    ),
)


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


def defer_unused_imports() -> None:
    """Import what this service never calls only if something calls it: ~0.1 s less importing.

    BentoML 1.4.39 imports, at module level, two things only other kinds of service use: its
    proxy app for services with a custom command (with pyparsing: 0.04 s, timed in process once
    the rest is loaded) and its multi-process server for `bentoml serve` (with circus, zmq and
    tornado: 0.03-0.06 s; too little to resolve in 20 paired cold starts of ~3.4 s). Each
    module in `DEFERRED` gets a stand-in that holds its place: calling its function, or reading
    any other attribute, loads the real module and hands over to it. Call before BentoML is
    imported (services.serve and the Lambda handler do).
    """
    for module, function, _ in DEFERRED:
        if module not in sys.modules:
            sys.modules[module] = _stand_in(module, function)


def _stand_in(module: str, function: str) -> types.ModuleType:
    stand_in = types.ModuleType(module, "Stand-in: the real module loads on first use.")

    def load_real_module() -> types.ModuleType:
        if sys.modules.get(module) is stand_in:
            del sys.modules[module]
        return importlib.import_module(module)

    def call_real(*args: Any, **kwargs: Any) -> Any:
        return getattr(load_real_module(), function)(*args, **kwargs)

    def other_name(name: str) -> Any:
        if name.startswith("__"):  # what the import system probes (__path__, ...): not ours
            raise AttributeError(name)
        return getattr(load_real_module(), name)

    call_real.__name__ = call_real.__qualname__ = function
    stand_in.load_real_module = load_real_module  # type: ignore[attr-defined]
    setattr(stand_in, function, call_real)
    stand_in.__getattr__ = other_name  # type: ignore[attr-defined]
    return stand_in
