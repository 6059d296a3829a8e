"""The installed project holds every app it runs: `hallserver` started outside the source tree
(as `./scripts/demo` and the Dockerfile do) imports each app from the installed packages."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent


def test_every_local_app_is_packaged():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["packages"]["find"]["include"]
    local = [app for app in settings.INSTALLED_APPS
             if (ROOT / app.split(".")[0] / "__init__.py").exists()]
    assert local, "no local apps found"
    missing = [app for app in local
               if not any(fnmatch.fnmatch(app, pattern) for pattern in patterns)]
    assert missing == [], f"apps not in [tool.setuptools.packages.find] include: {missing}"
