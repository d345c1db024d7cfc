"""The corpus of requirement-file cases the reader is compared with pip on.

tests/data/reqlines/ holds the cases as data:

* pip-tests.jsonl: lines and small files that pip's own unit tests feed to its parser;
* prp-tests.jsonl, prp-files.jsonl: the same from pip-requirements-parser's tests (its
  test data files are split into one case per logical line);
* hand.txt: cases written for every reading the reader models (format in its header).

`random_cases` adds plausible lines made from fragments, with a fixed seed.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path

DATA = Path(__file__).parent / "data" / "reqlines"


@dataclass
class Case:
    id: str
    files: dict[str, bytes] = field(default_factory=dict)
    dirs: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)

    def write(self, root: Path) -> None:
        root.mkdir(parents=True)
        for folder in self.dirs:
            (root / folder).mkdir(parents=True, exist_ok=True)
        for name, data in self.files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data.replace(b"{root}", str(root).encode()))


def _jsonl_cases(name: str) -> list[Case]:
    cases = []
    for number, line in enumerate((DATA / name).read_text("utf-8").splitlines(), start=1):
        text = json.loads(line)
        cases.append(Case(f"{name.split('.')[0]}:{number}", {"requirements.txt": text.encode()}))
    return cases


def _env_value(text: str) -> str:
    return str(json.loads(text)) if text.startswith('"') else text


def hand_cases() -> list[Case]:
    cases: list[Case] = []
    bodies: list[dict[str, tuple[str, list[str]]]] = []
    target: list[str] | None = None
    for raw in (DATA / "hand.txt").read_text("utf-8").split("\n"):
        if raw.startswith("### "):
            cases.append(Case(f"hand:{raw[4:].strip()}"))
            target = []
            bodies.append({"requirements.txt": ("utf-8", target)})
            continue
        if not cases:
            continue
        case, files = cases[-1], bodies[-1]
        if raw.startswith("--- "):
            kind, _, rest = raw[4:].partition(" ")
            target = None
            if kind in ("file", "encode"):
                name, _, codec = rest.partition(" ")
                target = []
                files[name] = (codec or "utf-8", target)
            elif kind == "dir":
                case.dirs.append(rest)
            elif kind == "env":
                name, _, value = rest.partition("=")
                case.env[name] = _env_value(value)
            elif kind == "raw":
                name, _, value = rest.partition(" ")
                files.pop(name, None)
                case.files[name] = str(json.loads(value)).encode("latin-1")
            continue
        if target is not None:
            target.append(raw)
    for case, files in zip(cases, bodies, strict=True):
        for name, (codec, lines) in files.items():
            while lines and not lines[-1]:
                lines.pop()
            if lines or name != "requirements.txt" or name not in case.files:
                if name == "requirements.txt" and not lines and name in case.files:
                    continue
                case.files[name] = "".join(f"{line}\n" for line in lines).encode(codec)
    return cases


# ------------------------------------------------------------------------------ random

_NAMES = ["six", "Django", "zope.interface", "foo_bar", "a", "A-b.C_d", "x1", "foo-", "fóo", "1pkg"]
_EXTRAS = ["", "", "", "[a]", "[a,b]", "[ a , b ]", "[]", "[a,]", "[A_B]", "[a b]"]
_SPECS = [
    "",
    "==1.0",
    "== 1.0",
    ">=1,<2",
    ">=1, <2",
    " (>=1)",
    "~=1.4.2",
    "~=1",
    "===abc",
    "==1.*",
    "!=1.0.*",
    ">=1.0.*",
    "==1.0+local",
    "<2+x",
    "==abc",
    "==",
    ">= 1.0 , != 1.5",
    "==1.0a1",
    "==1.0.post1",
    "==v1.0",
    "==1.0-1",
    "==1!2.0",
    "==1,",
    "=1.0",
    ">=1.0<2",
]
_MARKERS = [
    "",
    "",
    '; python_version < "3.8"',
    ";python_version<'3'",
    " ; extra == 'X_y'",
    ' ; os_name == "nt" and sys_platform == "win32"',
    ' ; (python_version > "3")',
    "; bad_marker",
    ";",
    "; python_version >= '3' or",
    ' ; "a" in extras',
    " ; platform.machine=='x86_64'",
    ' ; python_version>"3"and os_name=="nt"',
]
_URLS = [
    "https://example.invalid/pkg-1.0.tar.gz",
    "https://example.invalid/pkg-1.0.tar.gz#egg=pkg",
    "https://example.invalid/pkg-1.0.tar.gz#egg=pkg==1.0",
    "https://example.invalid/Pkg_X-1.0-py3-none-any.whl",
    "https://example.invalid/pkg.whl",
    "git+https://example.invalid/r.git#egg=r",
    "git+https://example.invalid/r.git@v1",
    "hg+https://example.invalid/r#egg=r&subdirectory=s",
    "file:///tmp/reqhash-missing/pkg-1.0-py3-none-any.whl#sha256=aa",
    "file:///tmp/reqhash-missing/folder",
    "./dist/x-1.0-py3-none-any.whl",
    "./folder",
    "dist/y-2.0.tar.gz",
    "foo://example.invalid/x.tar.gz",
]
_HASH = "1e61c37477a1626458e36f7b1d82aa5c9b094fa4802892072e49de9c60c4c926"
_OPTIONS = [
    f"--hash=sha256:{_HASH}",
    f"--hash sha256:{_HASH}",
    "--hash=sha512:abc",
    "--hash=md5:abc",
    "--hash=sha256",
    "-C a=b",
    "--config-settings=k",
    "--pre",
    "--no-binary :all:",
    "--only-binary=foo",
    "--index-url https://i.invalid/simple",
    "-r more.txt",
    "--prefer-binary",
    "--global-option=x",
    "--install-option=y",
    "--no-require-hashes",
    "--all-releases :all:",
    "--only-final foo",
    "--bogus",
    "--",
    "-e git+https://example.invalid/r#egg=r",
    '"quoted"',
    '--hash "sha256:aa"',
    "--hash 'sha256:aa",
    "--requ",
    "-rmore.txt",
    "--no",
    "--use-feature=fast-deps",
]
_OPTION_LINES = [
    "--index-url https://example.invalid/simple",
    "--extra-index-url=https://x.invalid/simple",
    "-i https://short.invalid/simple",
    "--no-index",
    "--find-links ./wheels",
    "-f https://links.invalid/ -f ./other",
    "--trusted-host example.invalid",
    "--require-hashes",
    "--no-require-hashes",
    "--pre",
    "--prefer-binary",
    "--only-binary :all:",
    "--no-binary foo,Bar_Baz",
    "--only-binary :none:",
    "--use-feature=truststore",
    "--use-feature=nope",
    "--all-releases foo",
    "-r more.txt",
    "-c constraints.txt",
    "-e .",
    "-e git+https://example.invalid/r.git",
    "-e https://example.invalid/p-1.0.tar.gz",
    "-e r @ git+https://example.invalid/r.git",
    "--hash=sha256:aa",
    "-x",
]
_SPACES = [" ", " ", " ", "  ", "\t", " \\\n    "]
_COMMENTS = ["", "", "", " # comment", "#x", "\t# tab comment"]
_ENV = {"V": "1.0", "EMPTY": "", "SPACEY": "a b", "HASHY": "x #y", "OPT": "--pre"}


def _requirement(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.55:
        return rng.choice(_NAMES) + rng.choice(_EXTRAS) + rng.choice(_SPECS) + rng.choice(_MARKERS)
    if roll < 0.7:
        name = rng.choice(_NAMES) + rng.choice(_EXTRAS)
        at = rng.choice([" @ ", "@", " @", "@ "])
        return name + at + rng.choice(_URLS) + rng.choice(_MARKERS)
    if roll < 0.85:
        return rng.choice(_URLS) + rng.choice(["", "", " ; python_version > '3'", ";os_name=='nt'"])
    prefix = rng.choice(["-e ", "-e", "--editable=", "--editable "])
    return prefix + rng.choice(_URLS + ["."]) + rng.choice(["", "[dev]"])


def _line(rng: random.Random) -> str:
    if rng.random() < 0.2:
        line = rng.choice(_OPTION_LINES)
    else:
        line = _requirement(rng)
        for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
            line += rng.choice(_SPACES) + rng.choice(_OPTIONS)
    if rng.random() < 0.1:
        position = rng.randrange(len(line) + 1)
        line = (
            line[:position]
            + "${"
            + rng.choice(list(_ENV) + ["UNSET", "lower"])
            + "}"
            + line[position:]
        )
    return line + rng.choice(_COMMENTS)


def random_cases(count: int, seed: int = 508) -> list[Case]:
    rng = random.Random(seed)
    cases = []
    for number in range(count):
        lines = [_line(rng) for _ in range(rng.choice([1, 1, 1, 2, 3]))]
        files = {"requirements.txt": ("\n".join(lines) + "\n").encode()}
        if any("more.txt" in line for line in lines):
            files["more.txt"] = b"six==1.16.0\n"
        if any("constraints.txt" in line for line in lines):
            files["constraints.txt"] = b"idna==3.6\n"
        cases.append(Case(f"random:{number}", files, ["folder", "wheels"], dict(_ENV)))
    return cases


_MUTATIONS = list(" \t=<>!~.,;:@#[]()'\"\\-_+*/$%{}\nAa0é") + [
    " --hash=sha256:aa",
    " -r x",
    "${V}",
    " ; ",
    "==",
    ".whl",
    ".tar.gz",
    "#egg=",
    "git+",
    "file://",
]


def mutated_cases(cases: list[Case], count: int, seed: int = 440) -> list[Case]:
    """Lines of other cases with a few characters inserted, deleted or replaced."""
    rng = random.Random(seed)
    sources = [c for c in cases if set(c.files) == {"requirements.txt"} and not c.dirs]
    mutated = []
    for number in range(count):
        text = rng.choice(sources).files["requirements.txt"].decode("utf-8", "replace")
        for _ in range(rng.choice([1, 1, 2, 3])):
            position = rng.randrange(len(text) + 1)
            roll = rng.random()
            if roll < 0.5:
                text = text[:position] + rng.choice(_MUTATIONS) + text[position:]
            elif roll < 0.75:
                text = text[:position] + text[position + 1 :]
            else:
                text = text[:position] + rng.choice(_MUTATIONS) + text[position + 1 :]
        files = {"requirements.txt": text.encode(), "x": b"six==1.16.0\n"}
        mutated.append(Case(f"mutated:{number}", files, ["folder"], dict(_ENV)))
    return mutated


def all_cases(random_count: int, seed: int = 0) -> list[Case]:
    cases = [
        *_jsonl_cases("pip-tests.jsonl"),
        *_jsonl_cases("prp-tests.jsonl"),
        *_jsonl_cases("prp-files.jsonl"),
        *hand_cases(),
    ]
    return [
        *cases,
        *random_cases(random_count, 508 + seed),
        *mutated_cases(cases, random_count, 440 + seed),
    ]
