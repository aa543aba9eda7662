import gc
import os
import threading
import time
from pathlib import Path

import pytest

UNIT = Path(__file__).parent
# No servers, no dvc repro: a unit test that takes this long is stuck, not slow.
UNIT_TEST_TIMEOUT_S = 120


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.is_relative_to(UNIT) and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(UNIT_TEST_TIMEOUT_S))


def pytest_collection_finish(session):
    # `make mutation` (MODELOPS_PRELOAD_IMPORTS) forks each mutant's pytest from one process that
    # has imported and collected everything. Frozen, that heap is left out of every garbage
    # collection in the forks: a full collection otherwise writes to each of its objects, copying
    # the whole heap page by page in every fork (most of a mutant's cost, measured). What the
    # tests run and assert is unchanged; only objects that existed before the fork stay alive.
    if os.environ.get("MODELOPS_PRELOAD_IMPORTS"):
        gc.freeze()


@pytest.fixture
def waits(monkeypatch):
    """The client's waits between attempts, recorded instead of waited (this test's thread only).

    `modelops.client.time` is the process's `time` module: a daemon thread an earlier test left
    behind (on the same xdist worker) that sleeps in a loop must keep sleeping, or it spins and
    floods the record.
    """
    caller, real_sleep, recorded = threading.current_thread(), time.sleep, []

    def record(seconds: float) -> None:
        if threading.current_thread() is caller:
            recorded.append(seconds)
        else:
            real_sleep(seconds)

    monkeypatch.setattr("modelops.client.time.sleep", record)
    return recorded
