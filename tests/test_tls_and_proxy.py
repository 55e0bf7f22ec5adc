"""Proxies and TLS against a local HTTPS fake Segmind with its own CA: a custom CA bundle works, a
certificate error says so in plain words, HTTPS_PROXY is used and NO_PROXY bypasses it."""

import pytest

from conftest import DEFAULT_PARAMS, textured_image
from fake_segmind import FakeSegmind
from net_tools import ConnectProxy, make_certificates
from nodes.common import errors as E
from nodes.media.image_codec import image_to_base64

TLS_ENV = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY",
           "http_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy")


@pytest.fixture
def tls_server(tmp_path, monkeypatch):
    for name in TLS_ENV:
        monkeypatch.delenv(name, raising=False)
    certs = make_certificates(tmp_path)
    with FakeSegmind(tls=(str(certs["server.pem"]), str(certs["server.key"]))) as fake:
        yield fake, certs["ca.pem"]


@pytest.fixture(scope="module")
def image_b64():
    return image_to_base64(textured_image())


def test_untrusted_certificate_is_explained_and_nothing_is_sent(tls_server, make_client, image_b64):
    fake, _ = tls_server
    with pytest.raises(E.ConnectionFailedError) as caught:
        make_client(base_url=fake.base_url, mode="v1").generate(image_b64, DEFAULT_PARAMS)
    text = str(caught.value)
    assert "Could not verify the TLS certificate" in text and "REQUESTS_CA_BUNDLE" in text
    assert fake.recorded() == []


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"])
def test_a_custom_ca_bundle_is_honoured(tls_server, make_client, image_b64, monkeypatch, variable):
    fake, ca = tls_server
    monkeypatch.setenv(variable, str(ca))
    result = make_client(base_url=fake.base_url, mode="v2").generate(image_b64, DEFAULT_PARAMS)
    assert result.video == fake.expected_video(image_b64, DEFAULT_PARAMS)


def test_https_proxy_is_used_and_no_proxy_bypasses_it(tls_server, make_client, image_b64, monkeypatch):
    fake, ca = tls_server
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca))
    with ConnectProxy() as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        make_client(base_url=fake.base_url, mode="v1").generate(image_b64, DEFAULT_PARAMS)
        assert proxy.targets == [f"127.0.0.1:{fake.port}"]
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        make_client(base_url=fake.base_url, mode="v1").generate(image_b64, dict(DEFAULT_PARAMS, seed=2))
        assert len(proxy.targets) == 1
    assert len(fake.accepted_posts()) == 2
