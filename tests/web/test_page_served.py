"""The page at `/` of the real service (the packaged test model), in chromium."""

from __future__ import annotations

import pandas as pd
import pytest
import requests

from modelops.client import Client
from tests.web.conftest import PHONE, screenshot

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("smoke")]  # shares the local server


def row_of(packaged, n: int = 0) -> dict:
    """Row n of the test table as JSON values (NaN as null), the way the API takes it."""
    row = packaged["rows"].iloc[n]
    return {
        k: (None if pd.isna(v) else v.item() if hasattr(v, "item") else v) for k, v in row.items()
    }


def first_complete_row(packaged) -> dict:
    """A row with no missing values, so every control gets a value."""
    for n in range(len(packaged["rows"])):
        row = row_of(packaged, n)
        if all(value is not None for value in row.values()):
            return row
    raise AssertionError("the test table has no complete row")


def fill(page, packaged, row: dict) -> None:
    """Type each value into its control: number inputs, category and yes/no selects."""
    types = {f["name"]: f.get("type", "number") for f in packaged["card"]["feature_schema"]}
    for name, value in row.items():
        control = f'[name="{name}"]'
        if types[name] == "number":
            page.fill(control, "" if value is None else repr(float(value)))
        elif types[name] == "boolean":
            page.select_option(control, "" if value is None else str(bool(value)).lower())
        else:
            page.select_option(control, "" if value is None else str(value))


def test_the_form_predicts_what_the_api_predicts(page, local_server, packaged):
    url = local_server["url"]
    page.goto(url + "/")
    row = first_complete_row(packaged)
    fill(page, packaged, row)
    page.click("#predict-button")
    classes = "|".join(map(str, packaged["card"]["classes"]))
    page.wait_for_function(
        f"document.getElementById('prediction').textContent.match(/^({classes})$/)"
    )
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
    row = first_complete_row(packaged)
    numbers = [f["name"] for f in packaged["card"]["feature_schema"] if f["type"] == "number"]
    wrong = numbers[0]
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
    fill(page, packaged, row)
    page.click("#predict-button")
    position = [f["name"] for f in packaged["card"]["feature_schema"]].index(wrong)
    error = page.locator(f"#feature-{position}-error")
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
    probabilities = [f"proba_{c}" for c in packaged["card"]["classes"]]
    assert list(scored.columns) == [*rows.columns, "label", "probability", *probabilities]
    expected = Client(local_server["url"]).predict(rows, id_column="customer")
    assert scored["customer"].tolist() == expected["customer"].tolist()
    assert scored["label"].tolist() == expected["label"].tolist()
    assert scored["probability"].tolist() == pytest.approx(expected["probability"].tolist())
    screenshot(page, "served-csv")


def test_a_csv_without_the_features_says_which(page, local_server, packaged, tmp_path):
    source = tmp_path / "wrong.csv"
    source.write_text("a,b\n1,2\n")
    page.goto(local_server["url"] + "/")
    page.set_input_files("#csv-file", str(source))
    status = page.locator("#csv-status.error")
    status.wait_for()
    first = packaged["card"]["feature_schema"][0]["name"]
    assert f"lacks the model's features: {first}" in status.text_content()


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
