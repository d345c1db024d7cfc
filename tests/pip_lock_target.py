"""Run pip's own code with its lock selection pointed at another target.

    python pip_lock_target.py TARGET.json download -r pylock.toml ...

pip refuses --platform/--python-version next to a lock file and selects from the lock for
the running interpreter. This runs the real pip (downloads, hash checks, resolver and
messages unchanged) with three things pointed at the target described in TARGET.json
({"tags": ["cp312-cp312-macosx_11_0_arm64", ...], "environment": {...},
"python_version": [3, 12]}): the marker environment, the tags `Pylock.select` ranks wheels
by, and the tags and Python version of pip's TargetPython (which judges the locked link).
It is run with the interpreter of a venv holding the pip under test; it imports nothing
from this project.
"""

from __future__ import annotations

import json
import sys


def main() -> int:
    with open(sys.argv[1], encoding="utf-8") as handle:
        spec = json.load(handle)
    from pip._internal.models import target_python
    from pip._vendor.packaging import markers, pylock
    from pip._vendor.packaging.tags import Tag

    tags = [Tag(*text.split("-")) for text in spec["tags"]]
    environment = dict(spec["environment"])
    version_info = tuple(spec["python_version"])

    markers._cached_default_environment = lambda: environment  # type: ignore[attr-defined]
    pylock.default_environment = lambda: dict(environment)  # type: ignore[attr-defined]
    original_select = pylock.Pylock.select

    def select(self, **options):  # type: ignore[no-untyped-def]
        options.setdefault("environment", dict(environment))
        options["tags"] = tags
        return original_select(self, **options)

    pylock.Pylock.select = select
    original_init = target_python.TargetPython.__init__

    def init(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        original_init(self, *args, **kwargs)
        self.py_version_info = (*version_info, 0, 0)[:3]
        self.py_version = ".".join(str(p) for p in version_info[:2])

    target_python.TargetPython.__init__ = init
    target_python.TargetPython.get_sorted_tags = lambda self: list(tags)
    target_python.TargetPython.get_unsorted_tags = lambda self: set(tags)

    from pip._internal.cli.main import main as pip_main

    return int(pip_main(sys.argv[2:]) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
