"""HTTPS through the guard: the connection goes to the checked address while SNI and certificate checks use
the URL's host name."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest

from extractor.errors import HTTPStatusError
from extractor.fetch import Fetcher, FetchSettings
from tests.support.site import Site

x509 = pytest.importorskip("cryptography.x509")
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402


def _cert(subject: str, issuer_key: ec.EllipticCurvePrivateKey, issuer: str, key: ec.EllipticCurvePrivateKey,
          *, ca: bool, san: str | None = None) -> bytes:  # fmt: skip
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(san)]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A test CA, and a server certificate for `news.test` signed by it."""
    folder = tmp_path_factory.mktemp("pki")
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    (folder / "ca.pem").write_bytes(_cert("Test CA", ca_key, "Test CA", ca_key, ca=True))
    (folder / "cert.pem").write_bytes(_cert("news.test", ca_key, "Test CA", key, ca=False, san="news.test"))
    (folder / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return folder / "ca.pem", folder / "cert.pem", folder / "key.pem"


@pytest.fixture(scope="module")
def tls_site(pki: tuple[Path, Path, Path]) -> Iterator[Site]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(pki[1], pki[2])
    with Site(ssl_context=context) as site:
        yield site


def _fetcher(site: Site, ca: Path, name: str) -> Fetcher:
    settings = FetchSettings(allow_hosts=[f"{name}:{site.port}"], robots=False, retries=0, ca_bundle=ca)
    return Fetcher(settings, resolver=lambda host, port: [str(ipaddress.ip_address("127.0.0.1"))])


def test_https_to_a_pinned_address_verifies_the_host_name(tls_site: Site, pki: tuple[Path, Path, Path]) -> None:
    with _fetcher(tls_site, pki[0], "news.test") as fetcher:
        page = fetcher.fetch(f"https://news.test:{tls_site.port}/echo-headers")
    assert f"host: news.test:{tls_site.port}" in page.text.lower()


def test_certificate_for_another_name_is_refused(tls_site: Site, pki: tuple[Path, Path, Path]) -> None:
    with _fetcher(tls_site, pki[0], "other.test") as fetcher, pytest.raises(HTTPStatusError, match=r"(?i)hostname|match"):
        fetcher.fetch(f"https://other.test:{tls_site.port}/echo-headers")


def test_untrusted_certificate_is_refused(tls_site: Site) -> None:
    settings = FetchSettings(allow_hosts=[f"news.test:{tls_site.port}"], robots=False, retries=0)
    with Fetcher(settings, resolver=lambda h, p: ["127.0.0.1"]) as fetcher, pytest.raises(HTTPStatusError):
        fetcher.fetch(f"https://news.test:{tls_site.port}/echo-headers")
