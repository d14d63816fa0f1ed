"""OPTIONS and HEAD on every URL pattern, with any query string, as anyone: never a 5xx.

Found by schemathesis: ``OPTIONS /accounts/{n}/transactions/?format=csv`` answered 500, because
the CSV renderer was handed OPTIONS metadata (so did OPTIONS on the docs pages: their HTML
template renderer). And a failed CSV request labelled its JSON error ``text/csv`` (the schema's
errors were YAML, the docs' HTML). OPTIONS metadata and every error now go out as JSON.
"""

import re

import pytest
from django.test import Client
from django.urls import URLResolver, get_resolver, resolve
from django.urls.resolvers import RegexPattern

QUERIES = ["", "?format=csv", "?format=xml", "?page=2&page_size=1&from=2026-01-01&to=2026-01-31",
           "?%zz=%ff&from=not-a-date&format=api"]
ADMIN_QUERIES = ["", "?format=csv"]
CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")
GROUP = re.compile(r"\(\?P<(\w+)>([^)]*)\)")


def patterns(resolver=None, prefix=""):
    """Every URL pattern of the project, as (route or regex text, is_regex)."""
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            yield from patterns(entry, prefix + str(entry.pattern))
        else:
            yield prefix + str(entry.pattern), isinstance(entry.pattern, RegexPattern)


def concrete(route: str, is_regex: bool, world) -> str:
    """A URL that resolves to ``route``, with the path parameters of real objects."""
    values = {"account_number": world.a_jod.pk, "card_id": str(world.card.pk), "transaction_id": str(world.external.pk),
              "bill_id": str(world.bill.pk), "object_id": "1"}
    by_converter = {"uuid": str(world.incident.pk), "int": str(world.blocked.pk)}
    if is_regex or "^" in route:
        def group(match):
            literal = match.group(2)
            return literal.split("|")[0] if re.fullmatch(r"[\w|]+", literal) else "anything/"

        route = GROUP.sub(group, route).replace("^", "").replace("$", "")
    else:
        route = CONVERTER.sub(lambda m: values.get(m.group(2)) or by_converter.get(m.group(1) or "str", "x"), route)
    return "/" + route


def test_every_pattern_is_exercised(world):
    urls = [concrete(route, is_regex, world) for route, is_regex in patterns()]
    assert len(urls) > 40
    for url in urls:
        resolve(url)  # each concrete URL reaches its own pattern's view
    assert f"/accounts/{world.a_jod.pk}/transactions/" in urls


@pytest.mark.django_db
def test_options_and_head_never_answer_5xx(world):
    failures = []
    for route, is_regex in patterns():
        url = concrete(route, is_regex, world)
        admin = url.startswith("/admin/")
        queries, roles = (ADMIN_QUERIES, ["anonymous", "staff"]) if admin else (QUERIES, ["anonymous", "customer", "staff"])
        for role in roles:
            headers = world.headers[role]
            client = Client(raise_request_exception=False)
            meta = {"HTTP_AUTHORIZATION": headers["Authorization"]} if headers else {}
            for query in queries:
                for method in ("options", "head"):
                    response = getattr(client, method)(url + query, **meta)
                    if response.status_code >= 500:
                        failures.append((method.upper(), url + query, role, response.status_code))
                    elif response.status_code >= 400 and not admin:
                        label = response.get("Content-Type", "")
                        if response.content and not label.startswith("application/json"):
                            failures.append((method.upper(), url + query, role, label))
                    if "text/csv" in response.get("Content-Type", ""):
                        assert method == "head" and response.status_code == 200, (url + query, role)
    assert failures == []


@pytest.mark.django_db
def test_options_on_a_statement_with_format_csv_is_json_metadata(client_for, world):
    response = client_for(world.a).options(f"/accounts/{world.a_jod.pk}/transactions/?format=csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "text/csv" in response.json()["renders"]


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["?format=csv", "?format=csv&from=2026-02-01&to=2026-01-01"])
def test_a_failed_csv_statement_is_labelled_json(client_for, world, query):
    client = client_for(world.a)
    for number in (world.b_jod.pk, world.a_jod.pk):  # not theirs (404); theirs with bad dates (400)
        response = client.get(f"/accounts/{number}/transactions/{query}")
        if response.status_code == 200:
            continue
        assert response.status_code in (400, 404)
        assert response["Content-Type"] == "application/json"
        assert "Content-Disposition" not in response
        assert set(response.json()["error"]) == {"code", "message", "details"}
    ok = client.get(f"/accounts/{world.a_jod.pk}/transactions/?format=csv")
    assert ok.status_code == 200 and ok["Content-Type"].startswith("text/csv")


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/schema/?format=csv", "/api/docs/?format=json", "/api/redoc/?format=xml",
                                 "/fx/rates/?format=csv"])
def test_errors_of_views_that_render_yaml_or_html_are_json(client, url):
    response = client.get(url)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/docs/", "/api/redoc/", "/api/schema/"])
def test_options_on_the_docs_is_json(client, url):
    response = client.options(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
