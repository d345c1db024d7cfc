"""Credentials travel only over the scheme, host and port they were given for, and are
never printed, over real HTTP (and TLS) on 127.0.0.1."""

from __future__ import annotations

import base64
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hostile import HostileIndex
from tests.security.conftest import FORMATS, SECRET, pinned, run

ALICE = "Basic " + base64.b64encode(f"alice:{SECRET}".encode()).decode()


@pytest.fixture(autouse=True)
def _no_netrc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 (the openssl command makes it)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("needs the openssl command to make a certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return str(cert), str(key)


@pytest.fixture
def tls_index(
    certificate: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[HostileIndex]:
    """An index whose one port speaks TLS and plain HTTP, trusted by the run."""
    monkeypatch.setenv("SSL_CERT_FILE", certificate[0])
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    with HostileIndex(tls=certificate) as index:
        yield index


def _with_userinfo(url: str, userinfo: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{userinfo}@{rest}"


def _authorizations(visits: list[tuple[str, str, dict[str, str]]], scheme: str) -> set[str]:
    return {h.get("Authorization", "") for s, _, h in visits if s == scheme}


# --- where credentials go ----------------------------------------------------------------


def test_credentials_do_not_follow_a_redirect_to_another_port(
    repo: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: transport. Given for 127.0.0.1:A, they are not sent to 127.0.0.1:B."""
    with HostileIndex() as elsewhere:
        hostile.behaviour = "redirect"
        hostile.redirect_to = elsewhere.url
        (repo / "r.txt").write_text(pinned())
        url = _with_userinfo(hostile.simple_url, f"alice:{SECRET}")
        result = run(capsys, "--index-url", url, "r.txt")
        assert result.code == 0, result.out + result.err
        assert hostile.requests and {h.get("Authorization") for _, h in hostile.requests} == {ALICE}
        assert elsewhere.requests
        assert all("Authorization" not in h for _, h in elsewhere.requests)
        assert SECRET not in result.out + result.err


def test_credentials_given_for_https_are_not_sent_over_http_to_the_same_host_and_port(
    repo: Path, tls_index: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: transport. An https index that redirects to plain http on the same host and
    port: the redirect is followed (as pip follows it) without the credentials."""
    tls_index.behaviour = "redirect"
    tls_index.redirect_tls_only = True
    tls_index.redirect_to = tls_index.url
    (repo / "r.txt").write_text(pinned())
    url = _with_userinfo(tls_index.https_url, f"alice:{SECRET}") + "/simple"
    result = run(capsys, "--index-url", url, "r.txt")
    assert result.code == 0, result.out + result.err
    assert _authorizations(tls_index.visits, "https") == {ALICE}
    assert _authorizations(tls_index.visits, "http") == {""}
    assert SECRET not in result.out + result.err


def test_netrc_credentials_are_not_sent_over_http_after_a_redirect_from_https(
    repo: Path,
    tmp_path: Path,
    tls_index: HostileIndex,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Promise: transport (netrc). netrc names a host; its credentials go to the index
    named on the command line on that host, not to plain http on the same port."""
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine 127.0.0.1 login alice password {SECRET}\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    tls_index.behaviour = "redirect"
    tls_index.redirect_tls_only = True
    tls_index.redirect_to = tls_index.url
    (repo / "r.txt").write_text(pinned())
    result = run(capsys, "--index-url", tls_index.https_url + "/simple", "r.txt")
    assert result.code == 0, result.out + result.err
    assert _authorizations(tls_index.visits, "https") == {ALICE}
    assert _authorizations(tls_index.visits, "http") == {""}


def test_netrc_credentials_do_not_go_to_a_plain_http_index_a_file_names(
    repo: Path,
    tmp_path: Path,
    tls_index: HostileIndex,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Promise: transport (netrc). A file cannot make netrc's credentials for a host named
    on the command line travel in clear by naming the same host over http."""
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine 127.0.0.1 login alice password {SECRET}\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    (repo / "r.txt").write_text(f"--extra-index-url {tls_index.simple_url}\n" + pinned())
    result = run(capsys, "--index-url", tls_index.https_url + "/simple", "r.txt")
    assert result.code == 0, result.out + result.err
    assert _authorizations(tls_index.visits, "https") == {ALICE}
    assert [p for s, p, _ in tls_index.visits if s == "http"]  # asked…
    assert _authorizations(tls_index.visits, "http") == {""}  # …without the credentials


# --- never printed ------------------------------------------------------------------------


@pytest.mark.parametrize("password", [f"pa ss{SECRET}", f"p@ss{SECRET}", f"pa%20ss{SECRET}"])
def test_a_password_with_a_space_an_at_sign_or_percent_20_is_never_printed(
    repo: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str], password: str
) -> None:
    """Promise: no-leak (credentials). The index fails, so the URL is shown in the index
    error line, the summary and every format: always as `****@`."""
    hostile.behaviour = "error_page"
    (repo / "r.txt").write_text(pinned())
    url = _with_userinfo(hostile.simple_url, f"user:{password}")
    for fmt in FORMATS:
        result = run(capsys, "--index-url", url, "--format", fmt, "r.txt")
        text = result.out + result.err
        assert result.code == 3, fmt
        assert SECRET not in text and "pa ss" not in text and "%20" not in text, fmt
        assert "user" not in text.replace("user-agent", ""), fmt
        assert "****@127.0.0.1" in text.replace("\\*", "*"), fmt  # markdown escapes `*`
    assert all(h.get("Authorization") for _, h in hostile.requests)


@pytest.mark.parametrize("password", [f"p@ss{SECRET}", f"pa%20ss{SECRET}"])
def test_a_password_in_a_file_s_index_url_is_never_printed(
    repo: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str], password: str
) -> None:
    """Promise: no-leak (credentials), for an index a requirements file names."""
    hostile.behaviour = "error_page"
    url = _with_userinfo(hostile.simple_url, f"user:{password}")
    (repo / "r.txt").write_text(f"--index-url {url}\n" + pinned())
    for fmt in FORMATS:
        result = run(capsys, "--index-url", hostile.simple_url, "--format", fmt, "r.txt")
        text = result.out + result.err
        assert result.code == 3, fmt
        assert SECRET not in text and "%20" not in text, fmt


def test_an_index_that_quotes_the_credentials_back_cannot_get_them_printed(
    repo: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: no-leak (credentials). The index was sent the password, and puts it in a
    yanked reason; a password given on the command line is replaced in every output."""
    hostile.behaviour = "echo_auth"
    (repo / "r.txt").write_text(pinned())
    url = _with_userinfo(hostile.simple_url, f"user:pa%20ss{SECRET}")
    for fmt in FORMATS:
        result = run(capsys, "--index-url", url, "--format", fmt, "r.txt")
        text = result.out + result.err
        assert "you sent" in text, fmt
        assert SECRET not in text and "pa ss" not in text, fmt


def test_an_index_whose_certificate_is_not_trusted_is_said_so_once(
    repo: Path,
    certificate: tuple[str, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A certificate this machine does not trust (a proxy or a private CA) is named as such,
    with the next step, not as "could not connect"; the host is given up on at once."""
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    with HostileIndex(tls=certificate) as index:
        (repo / "r.txt").write_text(pinned())
        result = run(capsys, "--no-cache", "--index-url", index.https_url + "/simple", "r.txt")
    assert result.code == 3, result.out + result.err
    text = result.out + result.err
    assert "TLS certificate is not trusted" in text and "SSL_CERT_FILE" in text
    assert "could not connect" not in text
    assert "Traceback" not in text
