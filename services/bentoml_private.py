"""Every use of BentoML's private modules, in one place (bentoml is pinned in uv.lock).

What the public API does not offer, and why the service needs it:

- ``CorkDispatcher`` (``bentoml._internal.marshal.dispatcher``): the adaptive-batching dispatcher
  behind ``batchable=True`` APIs, driven directly by ``services.classifier``. A batchable API must
  take and return a bare list, so ``/predict`` could not keep its ``{"predictions", "model"}``
  envelope; and the wait the dispatcher learnt (``dispatcher.optimizer.wait``) is reset when a
  request comes alone, which the public API cannot reach.
- ``traffic`` (``bentoml._internal.server.http.traffic``): BentoML's ``TimeoutMiddleware`` leaks a
  timer per request; ``services.guard`` replaces it there before BentoML builds an app.
- ``log_exception`` (``bentoml._internal.server.http_app``): logs every API exception at ERROR
  with its traceback on that module's logger; ``services.client_errors`` filters that logger so
  a client's 4xx is one INFO line without the payload.
- ``server_context`` (``bentoml._internal.context``) and ``configure_server_logging``
  (``bentoml._internal.log``): what BentoML's own worker sets up before it builds the app;
  ``services.serve`` does the same in one process.
- ``APIMethod`` (``_bentoml_sdk.method``): its ``_local_call`` rebuilds an API's caller (with
  ``inspect.signature``) on every request; ``services.speedups`` caches it per service instance.
- ``create_proxy_app`` (``_bentoml_impl.server.proxy``) and ``serve_http``
  (``_bentoml_impl.server.serving``): imported by BentoML's app module (the proxy app, with
  pyparsing) and its server package (the multi-process server, with circus and zmq), used only by
  services with a custom command and by ``bentoml serve``; ``services.speedups`` puts a stand-in
  in their place that loads the real module on first use (``DEFERRED``).

After a BentoML upgrade, ``missing_internals()`` lists each of these that changed (the test in
``tests/service/test_bentoml_private.py`` runs it); importing this module fails with the same
message for the first one missing.
"""

from __future__ import annotations

import importlib
import inspect
from types import ModuleType
from typing import Any

from services.speedups import DEFERRED

# (module, attribute, who relies on it)
PRIVATE_NAMES: tuple[tuple[str, str, str], ...] = (
    (
        "bentoml._internal.marshal.dispatcher",
        "CorkDispatcher",
        "services.classifier batches /predict with it",
    ),
    (
        "bentoml._internal.server.http.traffic",
        "TimeoutMiddleware",
        "services.guard replaces it with ResponseTimeout",
    ),
    (
        "bentoml._internal.context",
        "server_context",
        "services.serve names the service in it",
    ),
    (
        "bentoml._internal.log",
        "configure_server_logging",
        "services.serve configures logging with it",
    ),
    (
        "bentoml._internal.server.http_app",
        "log_exception",
        "services.client_errors filters the logger it writes 4xx tracebacks to",
    ),
    (
        "_bentoml_sdk.method",
        "APIMethod",
        "services.speedups caches its per-request caller",
    ),
    *DEFERRED,  # checked like the others; services.speedups defers importing them
)
# Arguments services.classifier passes to CorkDispatcher, and what it reads back from one.
DISPATCHER_ARGUMENTS = ("max_latency_in_ms", "max_batch_size", "fallback", "get_batch_size")
SERVER_CONTEXT_FIELDS = ("service_type", "service_name")


class BentoMLInternalsChanged(ImportError):
    """A private BentoML name this service relies on is gone or changed shape."""


def _bentoml_version() -> str:
    try:
        return importlib.import_module("bentoml").__version__
    except Exception:  # the version only decorates the message
        return "?"


def _problem(what: str, why: str) -> str:
    return (
        f"bentoml {_bentoml_version()}: {what} ({why}); "
        "port services/bentoml_private.py to this BentoML or pin the version in uv.lock"
    )


def _lookup(module: str, name: str) -> Any:
    found = importlib.import_module(module)
    load_real = getattr(found, "load_real_module", None)  # a stand-in of services.speedups
    return getattr(load_real() if load_real else found, name)


def missing_internals() -> list[str]:
    """One message per private BentoML name or shape this service relies on that is missing.

    Returns:
        Messages naming the module and attribute (empty when everything is in place).

    """
    problems = []
    found: dict[str, Any] = {}
    for module, name, why in PRIVATE_NAMES:
        try:
            found[name] = _lookup(module, name)
        except ImportError as exc:
            problems.append(_problem(f"cannot import {module} ({exc})", why))
        except AttributeError:
            problems.append(_problem(f"{module} has no attribute {name}", why))
    dispatcher_class = found.get("CorkDispatcher")
    if dispatcher_class is not None:
        why = "services.classifier builds its dispatcher with these"
        try:
            parameters = inspect.signature(dispatcher_class).parameters
        except (TypeError, ValueError):
            parameters = {}
        for argument in DISPATCHER_ARGUMENTS:
            if argument not in parameters:
                problems.append(_problem(f"CorkDispatcher() takes no argument {argument}", why))
        if all(argument in parameters for argument in DISPATCHER_ARGUMENTS):
            dispatcher = dispatcher_class(
                max_latency_in_ms=10, max_batch_size=2, fallback=lambda: None, get_batch_size=len
            )
            optimizer = getattr(dispatcher, "optimizer", None)
            if optimizer is None or not hasattr(optimizer, "wait"):
                problems.append(
                    _problem(
                        "CorkDispatcher has no attribute optimizer.wait",
                        "services.classifier resets the learnt wait of a lone request",
                    )
                )
    api_method = found.get("APIMethod")
    if api_method is not None and not callable(getattr(api_method, "_local_call", None)):
        problems.append(
            _problem(
                "APIMethod has no method _local_call",
                "services.speedups caches the caller it builds",
            )
        )
    context = found.get("server_context")
    if context is not None:
        for field in SERVER_CONTEXT_FIELDS:
            if not hasattr(context, field):
                problems.append(
                    _problem(
                        f"server_context has no attribute {field}",
                        "services.serve sets it as BentoML's worker does",
                    )
                )
    return problems


def _require(module: str, name: str, why: str) -> Any:
    try:
        return _lookup(module, name)
    except (ImportError, AttributeError) as exc:
        raise BentoMLInternalsChanged(_problem(f"{module} has no attribute {name}", why)) from exc


def _module(module: str) -> ModuleType:
    return importlib.import_module(module)


CorkDispatcher = _require(*PRIVATE_NAMES[0])
_require(*PRIVATE_NAMES[1])
traffic = _module(PRIVATE_NAMES[1][0])
server_context = _require(*PRIVATE_NAMES[2])
configure_server_logging = _require(*PRIVATE_NAMES[3])
_require(*PRIVATE_NAMES[4])  # services.client_errors relies on where it logs
APIMethod = _require(*PRIVATE_NAMES[5])

__all__ = [
    "APIMethod",
    "BentoMLInternalsChanged",
    "CorkDispatcher",
    "configure_server_logging",
    "missing_internals",
    "server_context",
    "traffic",
]
