"""Which real files the agreement harness checks, and on which targets.

Each case is one committed requirements file from `tests/data/realfiles/` (see SOURCES.md
there) with the targets it was made for. A target is `(python_version, platform)`, passed
to both `reqhash-check` and `pip download` as `--python-version` / `--platform`.
`pips` says which pips judge it: 26.3 always; 23.0 where the file is from its era or where
the pips' rules differ.
"""

from __future__ import annotations

from dataclasses import dataclass

LINUX = "manylinux2014_x86_64"
LINUX_228 = "manylinux_2_28_x86_64"
MAC_ARM = "macosx_11_0_arm64"
WINDOWS = "win_amd64"


@dataclass(frozen=True)
class Case:
    path: str
    """Relative to tests/data/realfiles/."""
    targets: tuple[tuple[str, str], ...]
    pips: tuple[str, ...] = ("26.3",)
    quick: bool = False
    """Part of the small subset the online pytest runs."""


CASES: tuple[Case, ...] = (
    Case(
        "addons-server/requirements/travis_base.txt",
        (("3.8", LINUX), ("3.12", WINDOWS)),
        pips=("23.0", "26.3"),
        quick=True,
    ),
    Case(
        "kit-app-template/tools/repoman/requirements.txt",
        (("3.10", LINUX), ("3.12", MAC_ARM)),
        quick=True,
    ),
    Case(
        "certbot/letsencrypt-auto-source/pieces/dependency-requirements.txt",
        (("3.8", LINUX),),
        pips=("23.0", "26.3"),
        quick=True,
    ),
    Case(
        "manylinux-2020/docker/build_scripts/requirements.txt",
        (("3.9", LINUX), ("3.8", LINUX)),
        pips=("23.0", "26.3"),
    ),
    Case("manylinux/docker/build_scripts/requirements3.12.txt", (("3.12", LINUX_228),)),
    Case(
        "sigstore-python/install/requirements.txt",
        (("3.13", LINUX_228), ("3.12", MAC_ARM), ("3.11", WINDOWS)),
    ),
    Case(
        "sigstore-python-2022/install/requirements.txt",
        (("3.10", LINUX), ("3.10", MAC_ARM)),
        pips=("23.0", "26.3"),
    ),
    Case("warehouse/requirements/main.txt", (("3.13", LINUX_228),)),
    Case("warehouse-2023/requirements.txt", (("3.11", LINUX),), pips=("23.0", "26.3")),
    Case("pontoon/requirements/prod.txt", (("3.12", LINUX),)),
    Case("treeherder-2021/requirements.txt", (("3.9", LINUX),), pips=("23.0", "26.3")),
    Case("securedrop/admin/requirements.txt", (("3.11", LINUX),), pips=("23.0", "26.3")),
    Case(
        "securedrop/securedrop/requirements/python3/requirements.txt",
        (("3.12", LINUX),),
    ),
    Case("aws-sam-cli/requirements/reproducible-win.txt", (("3.12", WINDOWS),)),
    Case("aws-sam-cli/requirements/reproducible-mac.txt", (("3.11", MAC_ARM),)),
    Case("rules_python/tools/publish/requirements_darwin.txt", (("3.11", MAC_ARM),)),
    Case(
        "rules_python/examples/bzlmod/requirements_lock_3_10.txt",
        (("3.10", LINUX), ("3.10", WINDOWS)),
    ),
    Case("rules_python/examples/pip_parse/requirements_windows.txt", (("3.10", WINDOWS),)),
    Case("jax/build/requirements_lock_3_11.txt", (("3.11", LINUX), ("3.11", MAC_ARM))),
    Case("osv.dev/docker/poetry/requirements.txt", (("3.13", LINUX),)),
    Case(
        "python-storage-2022/.kokoro/requirements.txt",
        (("3.10", LINUX),),
        pips=("23.0", "26.3"),
    ),
    Case("python-storage/.kokoro/requirements.txt", (("3.10", LINUX), ("3.12", MAC_ARM))),
    # A requirements file whose dependencies are pinned, with hashes, in a -c constraints
    # file: pip 26.1 and later take those pins, older pips refuse the dependencies.
    Case("tecken/requirements/default.txt", (("3.7", LINUX),), pips=("23.0", "26.3")),
    Case("normandy/requirements/default.txt", (("3.7", LINUX),), pips=("23.0", "26.3")),
    # The same layout with -r includes that name the same -c file again.
    Case("kuma/requirements/default.txt", (("3.8", LINUX),), pips=("23.0", "26.3")),
    Case("ichnaea/requirements/default.txt", (("3.8", LINUX),), pips=("23.0", "26.3")),
)
