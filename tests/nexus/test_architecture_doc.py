"""docs/ARCHITECTURE.md and the README's "Layout" name what exists (issue 13: the page matches the code).

The page once sent readers to ``api.signals.send_after_commit`` and ``nexus.exceptions.DomainError``
(both defined elsewhere), and the Layout listed no ``scripts/``. A renamed or moved module now fails
here until the page follows it.
"""

import importlib
import inspect
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARCHITECTURE = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
APPS = ("nexus", "api", "risk", "business")
CODE = re.compile(r"`([^`\s]+)`")
DOTTED = re.compile(rf"^(?:{'|'.join(APPS)})(?:\.\w+)+$")


def _named(pattern) -> list[str]:
    return sorted({name.removesuffix("()").split("(")[0] for name in CODE.findall(ARCHITECTURE)
                   if pattern(name.removesuffix("()").split("(")[0])})


def _resolve(dotted: str):
    """The object ``dotted`` names, importing the longest module prefix."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            module = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        owner, found = module, module
        for name in parts[cut:]:
            owner, found = found, getattr(found, name)
        return owner, found
    raise ModuleNotFoundError(dotted)


@pytest.mark.parametrize("dotted", _named(DOTTED.fullmatch))
def test_every_dotted_name_is_defined_where_the_page_says(dotted):
    owner, found = _resolve(dotted)
    if inspect.ismodule(owner) and (inspect.isfunction(found) or inspect.isclass(found)):
        assert found.__module__ == owner.__name__, f"{dotted} is defined in {found.__module__}"


@pytest.mark.parametrize("path", _named(lambda name: "/" in name and not name.startswith(("/", "."))
                                        and re.fullmatch(r"[\w./<>-]+", name) and "<" not in name))
def test_every_path_exists(path):
    # From the repository's root, or inside an app ("services/" in the table of an app's modules).
    assert any((base / path).exists() for base in (ROOT, *(ROOT / app for app in APPS))), path


def _layout() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return readme.split("## Layout\n", 1)[1].split("\n## ", 1)[0]


def test_the_layout_lists_every_top_level_directory_once():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    directories = {path.split("/")[0] for path in tracked if "/" in path and not path.startswith(".")}
    listed = re.findall(r"^(\w+)/ ", _layout(), re.MULTILINE)
    assert sorted(listed) == sorted(set(listed)) and set(listed) == directories


def test_the_layout_names_only_files_that_exist():
    current = None
    for line in _layout().splitlines():
        if line and not line.startswith(" "):  # a new entry: a directory, or a file at the root
            entry = re.match(r"^(\w+)/ ", line)
            current = entry.group(1) if entry else None
        for name in re.findall(r"([\w/]+\.py)\b", line):
            if current and not name.startswith(("scripts/", "bench/")):
                assert list((ROOT / current).rglob(name.rsplit("/", 1)[-1])), f"{current}/ has no {name}"
