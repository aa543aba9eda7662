from pathlib import Path

import pytest

UNIT = Path(__file__).parent
# No servers, no dvc repro: a unit test that takes this long is stuck, not slow.
UNIT_TEST_TIMEOUT_S = 120


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.is_relative_to(UNIT) and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(UNIT_TEST_TIMEOUT_S))
