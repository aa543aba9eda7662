"""The serving benchmark's arithmetic: paired ratios and per-scenario summaries."""

import pytest

from benchmarks.serve import paired_ratio, ratios, summarize


def test_a_paired_ratio_is_the_median_of_round_by_round_ratios():
    # Round 3 ran while the machine was slow for both: a ratio of medians would be 3/2 = 1.5,
    # the round-by-round ratios say ours is half the anchor's in every round.
    assert paired_ratio([1.0, 1.0, 3.0], [2.0, 2.0, 6.0]) == 0.5
    assert paired_ratio([4.0, 1.0, 9.0, 2.0], [2.0, 1.0, 3.0, 1.0]) == 2.0  # ratios 2, 1, 3, 2


@pytest.mark.parametrize(("ours", "anchor"), [([], []), ([1.0, 2.0], [1.0])])
def test_a_paired_ratio_needs_the_same_rounds_on_both_sides(ours, anchor):
    with pytest.raises(ValueError, match="as many rounds"):
        paired_ratio(ours, anchor)


def window(p50, rps, non_2xx=0):
    return {"p50_ms": p50, "p99_ms": p50 * 3, "requests_per_second": rps, "non_2xx": non_2xx}


def test_a_summary_keeps_every_window_and_adds_up_the_errors():
    runs = [window(1.0, 100.0), window(3.0, 50.0, non_2xx=2), window(2.0, 80.0, non_2xx=1)]
    summary = summarize(runs)
    assert (summary["p50_ms"], summary["p99_ms"], summary["requests_per_second"]) == (2, 6, 80)
    assert summary["non_2xx"] == 3
    assert summary["windows"] == runs


def test_the_targets_are_ratios_of_paired_rounds():
    def server(p50s, rpss, starts):
        return {
            "cold_start_runs_s": starts,
            "1 row, c=1": summarize([window(p, 1.0) for p in p50s]),
            "1 row, c=16": summarize([window(1.0, r) for r in rpss]),
        }

    measured = ratios(
        {
            "this service (bentoml serve)": server([1, 1], [300, 600], [3, 6]),
            "plain FastAPI + same model": server([2, 2], [100, 300], [2, 6]),
            "this service (bentoml serve), capture on": server([1.1, 1.1], [270, 600], [3, 6]),
            "mlflow models serve": server([9, 9], [30, 30], [8, 8]),
        }
    )
    assert measured == {
        "c1_p50_vs_fastapi (<= 1.2)": 0.5,
        "c16_rps_vs_fastapi (>= 1.0)": 2.5,  # rounds 3x and 2x
        "capture_on_vs_off_c1_p50 (<= 1.1)": 1.1,
        "capture_on_vs_off_c16_rps (>= 0.9)": 0.95,  # rounds 0.9x and 1x
        "c16_rps_vs_mlflow (>= 10)": 15.0,  # rounds 10x and 20x
    }


def test_cpu_per_request_is_compared_theirs_over_ours_when_every_window_measured_it():
    def server(cpus):
        windows = [window(1.0, 100.0) | {"cpu_ms_per_request": c} for c in cpus]
        return {"1 row, c=1": summarize(windows), "1 row, c=16": summarize(windows)}

    ours, anchor, mlflow = server([1.0, 2.0]), server([1.5, 2.0]), server([9.0, 22.0])
    assert ours["1 row, c=16"]["cpu_ms_per_request"] == 1.5
    measured = ratios(
        {
            "this service (bentoml serve)": ours,
            "plain FastAPI + same model": anchor,
            "mlflow models serve": mlflow,
        }
    )
    assert measured["c16_cpu_per_request_fastapi_vs_ours"] == 1.25  # rounds 1.5x and 1x
    assert measured["c16_cpu_per_request_mlflow_vs_ours"] == 10.0  # rounds 9x and 11x
    # a server with a window that did not measure it gives no such ratio
    del mlflow["1 row, c=16"]["windows"][0]["cpu_ms_per_request"]
    assert "c16_cpu_per_request_mlflow_vs_ours" not in ratios(
        {"this service (bentoml serve)": ours, "mlflow models serve": mlflow}
    )


def test_capture_is_also_compared_by_the_servers_cpu_per_request_in_both_scenarios():
    def server(c1_cpus, c16_cpus):
        def scenario(cpus):
            return summarize([window(1.0, 100.0) | {"cpu_ms_per_request": c} for c in cpus])

        return {"1 row, c=1": scenario(c1_cpus), "1 row, c=16": scenario(c16_cpus)}

    off = server([1.0, 2.0, 1.0], [0.5, 0.5, 0.5])
    on = server([1.05, 2.4, 1.1], [0.55, 0.5, 0.6])
    measured = ratios(
        {"this service (bentoml serve)": off, "this service (bentoml serve), capture on": on}
    )
    assert measured["capture_on_vs_off_c1_cpu_per_request (<= 1.1)"] == 1.1  # 1.05, 1.2, 1.1
    assert measured["capture_on_vs_off_c16_cpu_per_request (<= 1.1)"] == 1.1  # 1.1, 1, 1.2
    del on["1 row, c=1"]["windows"][1]["cpu_ms_per_request"]
    assert "capture_on_vs_off_c1_cpu_per_request (<= 1.1)" not in ratios(
        {"this service (bentoml serve)": off, "this service (bentoml serve), capture on": on}
    )
