"""The rules of docs/ARCHITECTURE.md that no import contract can see, checked on the source (issue 22:
rules as checks, not claims). Each test names the rule; the page names the test."""

import ast
import re
from pathlib import Path

from api.roles import Power

ROOT = Path(__file__).resolve().parents[2]
APPS = ("api", "business", "risk", "nexus")


def _product_files():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if "/migrations/" not in relative:
                yield relative, ast.parse(path.read_text(encoding="utf-8"))


def _is_request_layer(relative: str) -> bool:
    parts = relative.removesuffix(".py").split("/")
    return parts[1] in ("views", "serializers", "admin", "filters")


# Where a request-layer module may still hold a queryset: the hooks through which Django and DRF ask for
# one (a generic view's ``queryset``/``get_queryset``, an admin's ``get_queryset``, a list filter's
# ``lookups``/``queryset``).
QUERYSET_HOOKS = {"get_queryset", "queryset", "lookups"}


def test_querysets_only_in_selectors_and_services():
    offenders = []
    for relative, tree in _product_files():
        if not _is_request_layer(relative):
            continue
        inside_hooks = set()
        for node in ast.walk(tree):
            hook = (isinstance(node, ast.FunctionDef) and node.name in QUERYSET_HOOKS) or (
                isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "queryset" for t in node.targets))
            if hook:
                inside_hooks.update(id(child) for child in ast.walk(node))
        offenders += [f"{relative}:{node.lineno}" for node in ast.walk(tree)
                      if isinstance(node, ast.Attribute) and node.attr == "objects" and id(node) not in inside_hooks]
    assert not offenders, f"a queryset in the request layer (move it to a selector): {offenders}"


PERMISSION = re.compile(r"^(api|risk|business|nexus|axes)\.(view|add|change|delete)_\w+$|"
                        r"^(api|risk|business|nexus)\.(make|request|decide|freeze|unfreeze|block|reset|cancel|"
                        r"unlock|retry)_\w+$")
# Ground code imports no app, so it cannot name api.roles.Power: its one check names the same string.
GROUND_PERMISSIONS = {"nexus/admin.py": {Power.RETRY_JOB.value}}


def test_permissions_named_only_in_the_map():
    offenders = []
    for relative, tree in _product_files():
        if relative == "api/roles.py":
            continue
        named = {node.value for node in ast.walk(tree)
                 if isinstance(node, ast.Constant) and isinstance(node.value, str) and PERMISSION.match(node.value)}
        if named - GROUND_PERMISSIONS.get(relative, set()):
            offenders.append(f"{relative}: {sorted(named)}")
    assert not offenders, f"a permission named outside api.roles (use Power and may): {offenders}"
    assert {Power(value) for values in GROUND_PERMISSIONS.values() for value in values}


# The JSON error shape is built in one place; DRF's handler and everything outside DRF render through it.
ERROR_BODY_USERS = {"nexus/domain.py", "nexus/exceptions.py"}
# Answers that are not refusals (the health probes) or the outage's own 503 body (nexus.exceptions).
JSON_RESPONSE_USERS = {"nexus/domain.py", "nexus/health.py", "nexus/errors.py"}


def _names_called(tree) -> set[str]:
    return {node.func.id if isinstance(node.func, ast.Name) else node.func.attr
            for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute))}


def test_error_answers_through_one_path():
    offenders = []
    for relative, tree in _product_files():
        called = _names_called(tree)
        if "error_body" in called and relative not in ERROR_BODY_USERS:
            offenders.append(f"{relative}: error_body")
        if "JsonResponse" in called and relative not in JSON_RESPONSE_USERS:
            offenders.append(f"{relative}: JsonResponse")
    assert not offenders, f"an error answered outside nexus.domain (use json_error or refusal): {offenders}"


def test_the_page_names_each_check():
    page = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    for name in ("test_querysets_only_in_selectors_and_services", "test_permissions_named_only_in_the_map",
                 "test_error_answers_through_one_path", "test_no_sql_text_outside_the_queries_modules",
                 "test_one_external_transfer_goes_down_and_back_once"):
        assert name in page, name


# Tests mirror the code: a module's own tests are tests/<app>/<package>/test_<module>.py; what crosses
# modules (concurrency, properties, query counts, the admin crawl) sits at tests/<app>/test_<topic>.py.
MIRRORED = ("api/services", "api/views")


def test_the_tests_of_a_module_are_named_after_it():
    strays = [path.relative_to(ROOT).as_posix() for package in MIRRORED
              for path in sorted((ROOT / "tests" / package).glob("test_*.py"))
              if not (ROOT / package / f"{path.stem.removeprefix('test_')}.py").exists()]
    assert not strays, f"tests named after no module of their package: {strays}"
