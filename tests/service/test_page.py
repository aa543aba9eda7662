"""The page at `/` and Swagger UI at `/docs`, in-process; the page's HTML from hand-made cards."""

from html.parser import HTMLParser

import pytest

from modelops.serving.page import render_page

pytestmark = pytest.mark.xdist_group("service")

MIXED_CARD = {
    "name": "mixed", "version": "3", "task": "multiclass", "target": "species",
    "classes": ["setosa", "versicolor", "virginica"], "metrics": {"accuracy": 0.93},
    "trained_at": "2026-11-30T10:00:00+00:00", "data_hash": "abc", "git_commit": "def",
    "input_example": [{"petal length": 1.4, "colour": "red", "wild": True}],
    "feature_schema": [
        {"name": "petal length", "type": "number", "nullable": True},
        {"name": "colour", "type": "category", "categories": ["red", "<blue>"], "nullable": True},
        {"name": "wild", "type": "boolean", "nullable": False},
    ],
}  # fmt: skip


class Controls(HTMLParser):
    """Every input/select of the page: name -> (tag, attributes, options)."""

    def __init__(self):
        super().__init__()
        self.controls, self.forms, self.ids, self._select = {}, 0, set(), None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if "id" in attributes:
            self.ids.add(attributes["id"])
        if tag == "form":
            self.forms += 1
        if tag in ("input", "select") and "name" in attributes:
            self.controls[attributes["name"]] = (tag, attributes, [])
            self._select = attributes["name"] if tag == "select" else None
        if tag == "option" and self._select:
            self.controls[self._select][2].append(attributes.get("value"))

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


def controls_of(html: str) -> Controls:
    parser = Controls()
    parser.feed(html)
    return parser


def test_one_named_control_per_feature_typed_from_the_schema():
    page = controls_of(render_page(MIXED_CARD, 100))
    assert page.forms == 1 and "prediction" in page.ids
    tag, attributes, _ = page.controls["petal length"]
    assert tag == "input" and attributes["type"] == "number"
    tag, _, options = page.controls["colour"]
    assert tag == "select" and options == ["", "red", "<blue>"]  # empty = missing, escaped
    tag, _, options = page.controls["wild"]
    assert tag == "select" and options == ["", "true", "false"]
    for _tag, attributes, _ in page.controls.values():
        label = attributes["id"]
        assert f'<label for="{label}">' in render_page(MIXED_CARD, 100)  # accessible label


def test_a_schema_entry_without_a_type_is_a_number():
    card = MIXED_CARD | {"feature_schema": [{"name": "feature_00", "dtype": "float64"}]}
    tag, attributes, _ = controls_of(render_page(card, 10)).controls["feature_00"]
    assert tag == "input" and attributes["type"] == "number"


def test_card_text_cannot_inject_markup():
    card = MIXED_CARD | {"name": "<script>alert(1)</script>", "git_commit": "</script><b>"}
    html = render_page(card, 10)
    assert "<script>alert(1)" not in html and "</script><b>" not in html


def test_without_a_card_the_page_says_why():
    html = render_page(None, 10, "model x is not in the BentoML model store")
    assert "not in the BentoML model store" in html and "<form" not in html


def test_served_page_fits_the_packaged_model(client, binary):
    response = client.get("/")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    page = controls_of(response.text)
    assert set(page.controls) == {f["name"] for f in binary["card"]["feature_schema"]}
    assert page.controls["size"][2] == ["", "small", "medium", "large"]  # the known categories
    assert binary["card"]["git_commit"] in response.text  # the model card panel
    for asset in ("/web/page.js", "/web/page.css"):
        assert client.get(asset).status_code == 200, asset
    script = client.get("/web/page.js").text
    assert "http://" not in script and "https://" not in script  # no CDN: nothing remote


def test_swagger_ui_moved_to_docs_and_loads_nothing_from_outside(client):
    docs = client.get("/docs")
    assert docs.status_code == 200 and "swagger-ui-bundle.js" in docs.text
    assert "https://" not in docs.text
    assert client.get("/static_content/swagger-ui-bundle.js").status_code == 200
    spec = client.get("/docs.json").json()
    assert "/" not in spec["paths"] and "/docs" not in spec["paths"]


def test_the_page_through_a_function_url_event(binary):
    """On Lambda (public URL): the page and its script come through the handler as text."""
    from modelops.delivery.lambda_runtime import lambda_event
    from tests.service.conftest import run_driver

    events = [lambda_event("GET", "/"), lambda_event("GET", "/web/page.js")]
    # the handler in a fresh process, as a Lambda container runs it
    page, script = run_driver("tests.service.lambda_driver", binary["tag"], events)
    assert page["response"]["statusCode"] == 200
    assert page["response"]["headers"]["content-type"].startswith("text/html")
    assert 'name="mean radius"' in page["response"]["body"]
    assert script["response"]["statusCode"] == 200
    assert 'PREDICT_URL = "predict"' in script["response"]["body"]  # relative: any base path


def test_the_page_is_rendered_from_the_card_at_request_time(client, service_module, monkeypatch):
    core = service_module.core()  # the running service's core renders the page
    monkeypatch.setattr(core, "card", MIXED_CARD)
    page = controls_of(client.get("/").text)
    assert set(page.controls) == {"petal length", "colour", "wild"}
    monkeypatch.setattr(core, "card", None)
    monkeypatch.setattr(core, "error", "model m:1 is not in the store")
    response = client.get("/")
    assert response.status_code == 503 and "model m:1 is not in the store" in response.text


def test_a_predict_request_never_reaches_the_page_routes(service_module):
    """The page lives in the mounted app, after BentoML's own routes: /predict matches first."""
    from starlette.routing import Match, Mount

    app = service_module.Classifier.to_asgi()
    scope = {"type": "http", "method": "POST", "path": "/predict", "root_path": "", "headers": []}
    first = next(r for r in app.router.routes if r.matches(scope)[0] == Match.FULL)
    assert getattr(first, "path", None) == "/predict" and not isinstance(first, Mount)
    page = {"type": "http", "method": "GET", "path": "/", "root_path": "", "headers": []}
    served_by = next(r for r in app.router.routes if r.matches(page)[0] == Match.FULL)
    assert isinstance(served_by, Mount)  # the page's app, ahead of BentoML's Swagger index
