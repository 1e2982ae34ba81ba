"""API keys (API_KEYS): the key ring, and /v1/* behind `Authorization: Bearer` on a live
server through the `openai` client: 401 without a key and with a wrong one, 200 with a
right one, the rest of the API open, no key in the log, the start-up warning."""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from api_helpers import retriever as retriever
from api_helpers import settings
from chat_helpers import live

from service.api import create_app
from service.api.auth import KeyConfigError, load_keys, loopback
from service.retrieval import Retriever
from service.settings import Settings

KEY = "rqa-alpha-7f3c9e"
OTHER = "rqa-beta-91d2aa"


def sha(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def test_keys_as_they_are_and_as_digests() -> None:
    ring = load_keys([KEY, f"sha256:{sha(OTHER)}"])
    assert (ring.accepts(KEY), ring.accepts(OTHER)) == (True, True)
    assert (ring.accepts("rqa-alpha"), ring.accepts(""), ring.accepts(sha(KEY))) == (
        False,
        False,
        False,
    )
    assert not ring.open and load_keys([]).open
    assert repr(ring) == "KeyRing(2 keys)"


def test_a_file_of_digests(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.write_text(f"# service keys\n\n{sha(KEY)}  -\n{sha(OTHER).upper()} bob\n")
    ring = load_keys([str(keys)])
    assert ring.digests == (bytes.fromhex(sha(KEY)), bytes.fromhex(sha(OTHER)))
    assert ring.accepts(OTHER) and not ring.accepts("bob")


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (None, "cannot be read"),
        (f"{sha(KEY)}\nplain-key\n", "line 2 of the key file"),
        ("# nothing\n", "holds no digest"),
    ],
)
def test_a_bad_key_file_stops_the_start(tmp_path: Path, content: str | None, needle: str) -> None:
    keys = tmp_path / "keys"
    if content is not None:
        keys.write_text(content)
    with pytest.raises(KeyConfigError, match=needle):
        create_app(settings(api_keys=[str(keys)]))


def test_a_malformed_digest_is_refused() -> None:
    with pytest.raises(KeyConfigError, match="not a SHA-256 digest"):
        load_keys(["sha256:abc"])


def test_every_digest_is_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def counting(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", counting)
    ring = load_keys([KEY, OTHER, "third-key"])
    assert ring.accepts(KEY)
    # No early exit on the first match: the time does not tell which key matched.
    assert len(calls) == 3
    assert all(b == bytes.fromhex(sha(KEY)) for _, b in calls)


def test_settings_read_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_KEYS", f" {KEY}, ,sha256:{sha(OTHER)} ")
    read = Settings(_env_file=None)  # type: ignore[call-arg]
    assert [k.get_secret_value() for k in read.api_keys] == [KEY, f"sha256:{sha(OTHER)}"]
    assert KEY not in repr(read) and KEY not in str(read.model_dump())


@pytest.fixture(scope="module")
def base(retriever: Retriever) -> Iterator[str]:
    app = create_app(settings(api_keys=[KEY, f"sha256:{sha(OTHER)}"]), retriever)
    with live(app) as url:
        yield url


def client(base: str, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{base}/v1", api_key=key, max_retries=0)


def test_no_key_is_401(base: str) -> None:
    for path in ("/v1/models", "/v1/models/report-qa"):
        r = httpx.get(f"{base}{path}")
        assert r.status_code == 401
        assert r.headers["www-authenticate"] == "Bearer"
        assert r.json() == {
            "error": {
                "message": "this route needs an API key: send the header Authorization: Bearer "
                "<key> (a key from the service's API_KEYS)",
                "type": "invalid_request_error",
                "code": "missing_api_key",
            }
        }
    body = {"model": "report-qa", "messages": [{"role": "user", "content": "生产总值"}]}
    r = httpx.post(f"{base}/v1/chat/completions", json=body, headers={"Authorization": "Basic x"})
    assert (r.status_code, r.json()["error"]["code"]) == (401, "missing_api_key")


def test_a_wrong_key_is_401_through_the_openai_client(base: str) -> None:
    with pytest.raises(openai.AuthenticationError) as caught:
        client(base, "rqa-gamma-000000").models.list()
    assert (caught.value.status_code, caught.value.code) == (401, "invalid_api_key")
    with pytest.raises(openai.AuthenticationError):
        client(base, KEY[:-1] + "f").chat.completions.create(
            model="report-qa", messages=[{"role": "user", "content": "生产总值"}]
        )
    # Checked before the body: a wrong key learns nothing about the request.
    with pytest.raises(openai.AuthenticationError):
        client(base, "wrong").chat.completions.create(model="nope", messages=[])


def test_the_right_keys_pass(base: str) -> None:
    assert [m.id for m in client(base, KEY).models.list()] == ["report-qa", "report-qa-extractive"]
    done = client(base, OTHER).chat.completions.create(
        model="report-qa",
        messages=[{"role": "user", "content": "新建养老床位多少张"}],
        extra_body={"k": 3, "mode": "bm25"},
    )
    assert done.choices[0].message.content is not None
    assert done.choices[0].message.content.startswith("新建养老床位800张[1]。")


def test_the_rest_of_the_api_stays_open(base: str) -> None:
    assert httpx.get(f"{base}/healthz").status_code == 200
    assert httpx.post(f"{base}/search", json={"query": "生产总值", "k": 1}).status_code == 200


def test_keys_are_never_logged(retriever: Retriever, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    app = create_app(settings(api_keys=[KEY]), retriever)
    with live(app) as url:
        client(url, KEY).models.list()
        with pytest.raises(openai.AuthenticationError):
            client(url, OTHER).models.list()
    assert "API keys: 1 accepted on /v1/*" in caplog.text
    assert "/v1/models 401" in caplog.text and "/v1/models 200" in caplog.text
    assert KEY not in caplog.text and OTHER not in caplog.text
    assert sha(KEY) not in caplog.text


@pytest.mark.parametrize(
    ("host", "keys", "warned"),
    [("0.0.0.0", [], True), ("192.0.2.7", [], True), ("127.0.0.1", [], False),
     ("::1", [], False), ("0.0.0.0", [KEY], False)],
)  # fmt: skip
def test_open_beyond_loopback_warns_at_start_up(
    caplog: pytest.LogCaptureFixture, host: str, keys: list[str], warned: bool
) -> None:
    caplog.set_level(logging.WARNING, logger="service.api")
    create_app(settings(host=host, api_keys=keys))
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    expected = [
        f"API_KEYS is not set and the service listens on {host}: /v1/* is open to anyone who "
        "can reach it; set API_KEYS to require Authorization: Bearer <key>"
    ]
    assert warnings == (expected if warned else [])


def test_loopback() -> None:
    assert [loopback(h) for h in ("127.0.0.1", "127.8.0.1", "::1", "[::1]", "localhost")] == [
        True
    ] * 5
    assert [loopback(h) for h in ("0.0.0.0", "::", "10.1.2.3", "reports.example")] == [False] * 4
