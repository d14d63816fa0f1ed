"""The product documents itself: ``/`` points to the docs, unknown paths are the JSON 404 (DEBUG on
too), the guide is served, Swagger UI keeps its token, and no document links outside the repository."""

import re
from pathlib import Path

import pytest
from django.test import override_settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_root_is_a_landing_page_pointing_to_the_docs(client):
    data = client.get("/", HTTP_ACCEPT="application/json").json()
    assert data["docs"] == {"swagger_ui": "/api/docs/", "redoc": "/api/redoc/", "openapi_schema": "/api/schema/",
                            "guide": "/api/guide/"}
    for url in [*data["docs"].values(), data["health"]]:
        assert client.get(url).status_code == 200, url
    html = client.get("/", HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8")
    assert html["Content-Type"].startswith("text/html")
    assert 'href="/api/docs/"' in html.content.decode() and 'href="/api/guide/"' in html.content.decode()
    assert client.get("/").json()["name"] == "Nexus Bank API"  # curl's */* gets JSON


@pytest.mark.django_db
@override_settings(DEBUG=True)  # the local server: Django's own 404 page would list every URL pattern
@pytest.mark.parametrize(("method", "url"), [("get", "/nope/"), ("get", "/nope"), ("post", "/nope/"),
                                             ("get", "/api/"), ("delete", "/accounts/412345678905/nope"),
                                             ("get", "/robots.txt"), ("put", "/risk/")])
def test_unknown_paths_answer_the_json_404_with_debug_on(client, method, url):
    response = getattr(client, method)(url)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "not_found"


@override_settings(DEBUG=True)
def test_known_paths_still_answer_without_their_trailing_slash(user_client):
    assert user_client.get("/accounts").status_code == 200
    assert user_client.post("/accounts", {"type": "EUR"}, format="json").status_code == 201
    assert user_client.get("/fx/rates").status_code == 200


@pytest.mark.django_db
def test_the_api_guide_is_served(client):
    response = client.get("/api/guide/")
    assert response.status_code == 200 and response["Content-Type"] == "text/markdown; charset=utf-8"
    text = response.content.decode()
    assert text == (ROOT / "docs" / "API.md").read_text(encoding="utf-8")
    for heading in ("## Authentication", "## Money", "## Idempotency", "## Errors", "## Staff roles"):
        assert heading in text


@pytest.mark.django_db
def test_swagger_ui_keeps_the_token_across_reloads(client):
    script = client.get("/api/docs/?script=").content.decode()
    assert '"persistAuthorization": true' in script


DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")


@pytest.mark.parametrize("document", DOCUMENTS, ids=[path.name for path in DOCUMENTS])
def test_no_document_links_outside_the_repository(document):
    for target in LINK.findall(document.read_text(encoding="utf-8")):
        if target.startswith(("http://127.0.0.1", "http://localhost", "#")):
            continue
        assert "://" not in target, f"{document.name} links outside the repository: {target}"
        resolved = (document.parent / target.split("#")[0]).resolve()
        assert resolved.is_relative_to(ROOT), f"{document.name}: {target} leaves the repository"
        assert resolved.exists(), f"{document.name}: {target} does not exist"


def test_the_readme_links_the_guides():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "](docs/API.md)" in readme and "](docs/ARCHITECTURE.md)" in readme
