"""The browser UI's files as Django serves and collects them: modules in sub-folders
(frontend/moderate/, frontend/i18n/) are found under /static/app/, and every relative import
between the modules names a file that exists (a typo would only show as a blank page)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders

FRONTEND = Path(settings.BASE_DIR) / "frontend"
MODULES = sorted(
    p for p in FRONTEND.rglob("*.js") if "vendor" not in p.relative_to(FRONTEND).parts
)
# import ... from "./x.js" / export ... from "../x.js" / import("./x.js")
IMPORT = re.compile(
    r"""(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)["'](\.{1,2}/[^"']+)["']""", re.M
)


def test_modules_in_sub_folders_are_static_files():
    assert (FRONTEND / "moderate").is_dir() and (FRONTEND / "i18n").is_dir()
    for module in MODULES:
        name = "app/" + module.relative_to(FRONTEND).as_posix()
        assert finders.find(name) == str(module), name


@pytest.mark.parametrize("module", MODULES, ids=lambda p: p.relative_to(FRONTEND).as_posix())
def test_relative_imports_resolve(module):
    targets = IMPORT.findall(module.read_text(encoding="utf-8"))
    for target in targets:
        assert (module.parent / target).resolve().is_file(), f"{module.name} imports {target}"


def test_the_import_pattern_sees_the_console_panels():
    """The pattern above does find imports (it would pass vacuously otherwise)."""
    index = (FRONTEND / "moderate" / "index.js").read_text(encoding="utf-8")
    wanted = {"./rooms.js", "./feed.js", "../components.js", "../i18n.js"}
    assert wanted <= set(IMPORT.findall(index))
