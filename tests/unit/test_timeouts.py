"""pytest-timeout is configured: every test has a bound, unit tests a tighter one."""

from tests.unit.conftest import UNIT_TEST_TIMEOUT_S


def test_the_whole_suite_has_a_per_test_timeout(request):
    assert float(request.config.getini("timeout")) == 600
    assert request.config.pluginmanager.hasplugin("timeout")


def test_unit_tests_get_the_tighter_timeout(request):
    marker = request.node.get_closest_marker("timeout")
    assert marker is not None and marker.args == (UNIT_TEST_TIMEOUT_S,)
    assert UNIT_TEST_TIMEOUT_S < 600
