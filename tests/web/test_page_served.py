"""The page at `/` of the real service (the packaged test model), in chromium."""

from __future__ import annotations

import pandas as pd
import pytest
import requests

from modelops.client import Client
from tests.web.conftest import PHONE, screenshot

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("smoke")]  # shares the local server


def row_of(packaged, n: int = 0) -> dict:
    return {k: float(v) for k, v in packaged["rows"].iloc[n].items()}


def test_the_form_predicts_what_the_api_predicts(page, local_server, packaged):
    url = local_server["url"]
    page.goto(url + "/")
    row = row_of(packaged, 3)
    for name, value in row.items():
        page.fill(f'[name="{name}"]', repr(value))
    page.click("#predict-button")
    page.wait_for_function("document.getElementById('prediction').textContent.match(/^[01]$/)")
    expected = requests.post(f"{url}/predict", json={"instances": [row]}, timeout=10).json()
    prediction = expected["predictions"][0]
    assert page.text_content("#prediction") == str(prediction["label"])
    bars = page.locator("#probabilities [role=meter]")
    assert bars.count() == 2
    assert float(bars.nth(1).get_attribute("aria-valuenow")) == pytest.approx(
        prediction["probability"]
    )
    assert page.outside == []  # nothing loaded from outside the service
    screenshot(page, "served-desktop")
    page.set_viewport_size(PHONE)
    screenshot(page, "served-phone")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width}px wide on a {PHONE['width']}px screen"


def test_an_api_error_is_shown_next_to_its_field(page, local_server, packaged):
    url = local_server["url"]
    row = row_of(packaged)
    wrong = next(iter(row))
    # The form cannot type text into a number input, and nulls are predicted on: take the real
    # API's answer to a text in a numeric column and hand it to the page's request.
    refused = requests.post(
        f"{url}/predict", json={"instances": [{**row, wrong: "abc"}]}, timeout=10
    )
    assert refused.status_code == 400
    page.route(
        "**/predict",
        lambda route: route.fulfill(status=400, content_type="application/json", body=refused.text),
    )
    page.goto(url + "/")
    for name, value in row.items():
        page.fill(f'[name="{name}"]', repr(value))
    page.click("#predict-button")
    error = page.locator("#feature-0-error")
    error.wait_for(state="visible")
    assert "number" in error.text_content().lower()
    assert page.get_attribute(f'[name="{wrong}"]', "aria-invalid") == "true"
    assert page.text_content("#prediction") == "—"
    screenshot(page, "served-error")


def test_a_csv_upload_is_scored_in_chunks_and_offered_for_download(
    page, local_server, packaged, tmp_path
):
    rows = packaged["rows"].head(120).reset_index(drop=True)  # 3 chunks of at most 50
    rows.insert(0, "customer", [f"c{i}" for i in range(len(rows))])
    source = tmp_path / "customers.csv"
    rows.to_csv(source, index=False)
    predicts = []
    page.on("request", lambda r: predicts.append(r) if r.url.endswith("/predict") else None)
    page.goto(local_server["url"] + "/")
    page.set_input_files("#csv-file", str(source))
    page.wait_for_function(
        "document.getElementById('csv-status').textContent.startsWith('Scored 120 rows')"
    )
    assert len(predicts) == 3
    assert page.locator("#csv-preview tbody tr").count() == 10
    with page.expect_download() as download:
        page.click("#csv-download")
    saved = tmp_path / "downloaded.csv"
    download.value.save_as(saved)
    scored = pd.read_csv(saved)
    assert list(scored.columns) == [*rows.columns, "label", "probability", "proba_0", "proba_1"]
    expected = Client(local_server["url"]).predict(rows, id_column="customer")
    assert scored["customer"].tolist() == expected["customer"].tolist()
    assert scored["label"].tolist() == expected["label"].tolist()
    assert scored["probability"].tolist() == pytest.approx(expected["probability"].tolist())
    screenshot(page, "served-csv")


def test_a_csv_without_the_features_says_which(page, local_server, tmp_path):
    source = tmp_path / "wrong.csv"
    source.write_text("a,b\n1,2\n")
    page.goto(local_server["url"] + "/")
    page.set_input_files("#csv-file", str(source))
    status = page.locator("#csv-status.error")
    status.wait_for()
    assert "lacks the model's features: feature_00" in status.text_content()


def test_the_model_card_panel_and_the_docs(page, local_server, packaged):
    page.goto(local_server["url"] + "/")
    card = packaged["card"]
    for key in ("name", "version", "git_commit", "data_hash", "trained_at"):
        assert page.text_content(f"dd[data-key={key}]") == str(card[key])
    assert "roc_auc" in page.text_content(".metrics")
    assert page.outside == []
    page.click("text=API docs")
    # Swagger UI from the assets BentoML ships, over /docs.json (whose description, BentoML's
    # default, shows badge images from the internet: offline they are blank, nothing breaks)
    page.wait_for_selector(".swagger-ui .opblock")
    assert "/predict" in page.text_content(".swagger-ui")
