"""The container tier's image: built once per test run (`make image`'s build), or skipped with
the reason when no container engine answers."""

from __future__ import annotations

import pytest

from modelops.delivery import image as img


@pytest.fixture(scope="session")
def built_image() -> str:
    reason = img.engine_unavailable()
    if reason:
        pytest.skip(reason)
    return img.build()
