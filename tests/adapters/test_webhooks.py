"""Job callbacks: Standard Webhooks signatures, one attempt's outcome (what the outbox retries)
against a real local HTTP server, and the URL guard against server-side request forgery."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from standardwebhooks import Webhook

from scribe.adapters.webhooks import sender as sender_module
from scribe.adapters.webhooks.secret import (
    SigningSecret,
    new_secret,
    read_secret_file,
    secret_path,
    validate_secret,
)
from scribe.adapters.webhooks.sender import StandardWebhookSender
from scribe.adapters.webhooks.url_guard import check_url
from scribe.config import Settings
from scribe.domain.callbacks import SendOutcome, new_webhook_id
from scribe.domain.errors import ConfigurationError, InvalidRequest

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def spec_signature(secret: str, msg_id: str, timestamp: str, body: bytes) -> str:
    """The spec's algorithm, written out independently of the library."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


# --- a real HTTP receiver -----------------------------------------------------------------------


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Receiver:
    """A local HTTP server that answers each POST with the next scripted reply."""

    port: int
    replies: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    delay: float = 0.0

    def url(self, path: str = "/hook", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(port=0)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            state.received.append(
                Received(
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                    time.monotonic(),
                )
            )
            if state.delay:
                time.sleep(state.delay)
            status, headers = state.replies.pop(0) if state.replies else (200, {})
            try:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            except (BrokenPipeError, ConnectionResetError):
                pass  # the sender gave up waiting (the timeout test)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def local_sender(**kwargs: Any) -> StandardWebhookSender:
    kwargs.setdefault("timeout_seconds", 2)
    return StandardWebhookSender(SECRET, allow_private=True, **kwargs)


def send(
    sender: StandardWebhookSender,
    url: str,
    data: dict[str, Any] | None = None,
    *,
    webhook_id: str = "msg_1",
    timestamp: datetime | None = None,
) -> SendOutcome:
    """One attempt, as the outbox makes it."""
    when = timestamp or datetime.now(UTC)
    return asyncio.run(
        sender.send(
            url, "job.completed", data or {"id": "job_1"}, webhook_id=webhook_id, timestamp=when
        )
    )


# --- signing --------------------------------------------------------------------------------------


def test_library_signs_the_spec_test_vector() -> None:
    # The test vector published with the Standard Webhooks spec (and its reference libraries).
    msg_id, timestamp, body = "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, '{"test": 2432232314}'
    expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    signed = Webhook(SECRET).sign(msg_id, datetime.fromtimestamp(timestamp, UTC), body)
    assert signed == expected
    assert spec_signature(SECRET, msg_id, str(timestamp), body.encode()) == expected


def test_a_callback_arrives_signed(receiver: Receiver) -> None:
    data = {"id": "job_1", "status": "completed", "text": "héllo"}
    ended = datetime(2026, 12, 3, 10, 30, 5, 250000, tzinfo=UTC)
    outcome = send(local_sender(), receiver.url(), data, webhook_id="msg_abc", timestamp=ended)
    assert outcome == SendOutcome(True)

    [got] = receiver.received
    headers = got.headers
    assert headers["content-type"] == "application/json"
    assert headers["webhook-id"] == "msg_abc"
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 60  # the attempt's time
    assert headers["webhook-signature"] == spec_signature(
        SECRET, headers["webhook-id"], headers["webhook-timestamp"], got.body
    )
    payload = Webhook(SECRET).verify(got.body, headers)  # raises if the signature is wrong
    assert payload["type"] == "job.completed"
    assert payload["data"] == data
    assert payload["timestamp"] == "2026-12-03T10:30:05.250000Z"  # the event's, not the attempt's


def test_a_wrong_secret_does_not_verify(receiver: Receiver) -> None:
    assert send(local_sender(), receiver.url()).ok
    [got] = receiver.received
    from standardwebhooks import WebhookVerificationError

    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(got.body, got.headers)


def test_two_secrets_sign_one_callback_that_either_verifies(receiver: Receiver) -> None:
    new, old = new_secret(), SECRET
    asked: list[int] = []

    def secrets() -> list[str]:  # as a rotation's overlap gives them: current first
        asked.append(1)
        return [new, old] if len(asked) == 1 else [new]

    sender = StandardWebhookSender(secrets, allow_private=True)
    assert send(sender, receiver.url()).ok and send(sender, receiver.url()).ok
    during, after = receiver.received
    first, second = during.headers["webhook-signature"].split(" ")
    stamp = during.headers["webhook-timestamp"]
    assert first == spec_signature(new, "msg_1", stamp, during.body)
    assert second == spec_signature(old, "msg_1", stamp, during.body)
    for secret in (new, old):
        Webhook(secret).verify(during.body, during.headers)
    Webhook(new).verify(after.body, after.headers)  # asked again at the next attempt
    from standardwebhooks import WebhookVerificationError

    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(after.body, after.headers)


def test_each_event_has_its_own_id() -> None:
    ids = {new_webhook_id() for _ in range(100)}
    assert len(ids) == 100 and all(i.startswith("msg_") and len(i) == 36 for i in ids)


# --- one attempt's outcome ------------------------------------------------------------------------


def test_a_500_is_retryable_and_a_re_send_is_the_same_message(receiver: Receiver) -> None:
    receiver.replies = [(500, {}), (200, {})]
    sender, ended = local_sender(), datetime.now(UTC)
    failed = send(sender, receiver.url(), webhook_id="msg_same", timestamp=ended)
    assert failed == SendOutcome(False, "HTTP 500", retryable=True, retry_after=None)
    assert send(sender, receiver.url(), webhook_id="msg_same", timestamp=ended).ok
    first, second = receiver.received
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == "msg_same"
    assert first.body == second.body
    for got in (first, second):
        Webhook(SECRET).verify(got.body, got.headers)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 422])
def test_a_4xx_is_final(receiver: Receiver, status: int) -> None:
    receiver.replies = [(status, {"retry-after": "5"})]
    outcome = send(local_sender(), receiver.url())
    assert outcome == SendOutcome(False, f"HTTP {status}", retryable=False)
    assert len(receiver.received) == 1


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_408_429_and_5xx_are_retryable(receiver: Receiver, status: int) -> None:
    receiver.replies = [(status, {})]
    outcome = send(local_sender(), receiver.url())
    assert not outcome.ok and outcome.retryable and outcome.error == f"HTTP {status}"


def test_a_failure_is_logged_without_the_query_string(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    receiver.replies = [(503, {})]
    assert not send(local_sender(), receiver.url("/hook?token=s3cret")).ok
    assert "HTTP 503" in caplog.text and "/hook" in caplog.text
    assert "s3cret" not in caplog.text  # query strings may hold tokens: not logged


def test_429_gives_the_receivers_retry_after(receiver: Receiver) -> None:
    later = datetime.now(UTC) + timedelta(seconds=120)
    receiver.replies = [
        (429, {"retry-after": "1"}),
        (503, {"retry-after": format_datetime(later, usegmt=True)}),
        (503, {}),
    ]
    sender = local_sender()
    assert send(sender, receiver.url()).retry_after == 1
    seconds = send(sender, receiver.url()).retry_after
    assert seconds is not None and 110 < seconds <= 120
    assert send(sender, receiver.url()).retry_after is None


def test_redirects_are_not_followed(receiver: Receiver) -> None:
    receiver.replies = [(307, {"location": receiver.url("/elsewhere")})]
    outcome = send(local_sender(), receiver.url())
    assert not outcome.ok and not outcome.retryable
    assert "redirects are not followed" in (outcome.error or "")
    assert [r.path for r in receiver.received] == ["/hook"]


def test_a_slow_receiver_times_out_and_is_retryable(receiver: Receiver) -> None:
    receiver.delay = 0.5
    started = time.monotonic()
    outcome = send(local_sender(timeout_seconds=0.2), receiver.url())
    assert not outcome.ok and outcome.retryable
    assert len(receiver.received) == 1
    assert time.monotonic() - started < 0.45  # cut at 0.2 s, not left to run


def test_connection_refused_is_retryable_and_each_attempt_resolves_again() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    calls: list[str] = []

    def resolver(host: str, port: int) -> Sequence[str]:
        calls.append(host)
        return ["127.0.0.1"]

    sender = local_sender(resolver=resolver)
    for _ in range(3):
        outcome = send(sender, f"http://refused.test:{port}/")
        assert not outcome.ok and outcome.retryable
    assert calls == ["refused.test"] * 3  # resolved (and checked) again before every attempt


def test_a_name_that_stops_resolving_is_retryable(receiver: Receiver) -> None:
    def resolver(host: str, port: int) -> Sequence[str]:
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    outcome = send(local_sender(resolver=resolver), receiver.url(host="hooks.invalid"))
    assert not outcome.ok and outcome.retryable and "could not be resolved" in (outcome.error or "")


def test_bad_urls_and_data_are_final_without_raising() -> None:
    sender = local_sender()
    outcome = send(sender, "ftp://example.com/")
    assert not outcome.ok and not outcome.retryable and "http or https" in (outcome.error or "")
    outcome = send(sender, "http://127.0.0.1:1/", {"bad": object()})
    assert not outcome.ok and not outcome.retryable


# --- delivery goes to the address that was checked ----------------------------------------------


def test_delivery_connects_to_the_checked_address_with_the_host_name(receiver: Receiver) -> None:
    # hooks.invalid resolves nowhere in real DNS: the request can only arrive if the sender
    # connected to the address our resolver gave, while telling the server the name.
    sender = local_sender(resolver=lambda host, port: ["127.0.0.1"])
    assert send(sender, receiver.url(host="hooks.invalid")).ok
    [got] = receiver.received
    assert got.headers["host"] == f"hooks.invalid:{receiver.port}"
    Webhook(SECRET).verify(got.body, got.headers)


def test_dns_rebinding_is_caught_at_delivery(receiver: Receiver) -> None:
    answers = iter([["93.184.216.34"], ["127.0.0.1"], ["127.0.0.1"]])
    sender = StandardWebhookSender(SECRET, resolver=lambda host, port: next(answers))
    url = receiver.url(host="rebind.invalid")
    sender.check_url(url)  # public when the job is submitted
    outcome = send(sender, url)  # loopback when the callback goes out
    assert not outcome.ok and not outcome.retryable and "loopback" in (outcome.error or "")
    assert receiver.received == []


def test_https_keeps_the_host_name_for_tls() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    sender = StandardWebhookSender(
        SECRET,
        resolver=lambda host, port: ["2606:4700::1", "93.184.216.34"],
        transport=httpx.MockTransport(handler),
    )
    assert send(sender, "https://user:pw@hooks.example.com/cb?x=1").ok
    [request] = seen
    assert request.url.host == "2606:4700::1"
    assert (request.url.scheme, request.url.port) == ("https", None)  # None: the default, 443
    assert request.url.query == b"x=1"
    assert request.headers["host"] == "hooks.example.com"
    assert request.headers["authorization"].startswith("Basic ")
    assert request.extensions["sni_hostname"] == "hooks.example.com"


def test_the_next_address_is_tried_when_one_refuses_connections() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.host)
        if request.url.host == "2606:4700::1":
            raise httpx.ConnectError("network unreachable", request=request)
        return httpx.Response(200)

    sender = StandardWebhookSender(
        SECRET,
        resolver=lambda host, port: ["2606:4700::1", "93.184.216.34"],
        transport=httpx.MockTransport(handler),
    )
    assert send(sender, "https://hooks.example.com/").ok
    assert seen == ["2606:4700::1", "93.184.216.34"]


# --- the URL guard --------------------------------------------------------------------------------

REFUSED = [
    ("http://127.0.0.1/hook", "loopback"),
    ("http://localhost:8080/hook", "loopback"),
    ("http://[::1]/hook", "loopback"),
    ("http://10.0.0.5/hook", "private"),
    ("http://172.16.3.4/hook", "private"),
    ("http://192.168.1.10/hook", "private"),
    ("http://[fc00::1]/hook", "private"),
    ("http://[fd12:3456::1]/hook", "private"),
    ("http://169.254.169.254/latest/meta-data/", "metadata"),
    ("http://169.254.10.1/", "link-local"),
    ("http://[fe80::1]/", "link-local"),
    ("http://0.0.0.0:8000/", "unspecified"),
    ("http://[::]/", "unspecified"),
    ("http://224.0.0.1/", "multicast"),
    ("http://[ff02::1]/", "multicast"),
    ("http://240.0.0.1/", "reserved"),
    ("http://100.64.0.1/", "non-public"),
    ("http://[::ffff:127.0.0.1]/", "loopback"),
    ("http://[2002:a00:1::]/", "private"),  # 6to4 wrapping 10.0.0.1
    ("http://[64:ff9b::a00:5]/", "private"),  # NAT64 of 10.0.0.5
    ("http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/", "private"),  # Teredo
    ("http://2130706433/", "loopback"),  # 127.0.0.1 written as one number
]


@pytest.mark.parametrize(("url", "kind"), REFUSED)
def test_guard_refuses_non_public_addresses(url: str, kind: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        check_url(url, allow_private=False)
    error = caught.value
    assert (error.param, error.code) == ("callback_url", "invalid_value")
    assert kind in error.message
    assert "SCRIBE_CALLBACK_ALLOW_PRIVATE=true" in error.message


@pytest.mark.parametrize(("url", "kind"), REFUSED)
def test_guard_allows_them_with_the_setting(url: str, kind: str) -> None:
    check_url(url, allow_private=True)


def test_the_message_names_the_address_a_name_resolves_to() -> None:
    with pytest.raises(InvalidRequest) as caught:
        check_url(
            "https://intranet.example/hook",
            allow_private=False,
            resolver=lambda host, port: ["93.184.216.34", "10.0.0.5"],  # one bad is enough
        )
    assert caught.value.message == (
        "callback_url resolves to a private address (10.0.0.5); set "
        "SCRIBE_CALLBACK_ALLOW_PRIVATE=true to allow it."
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/hook", "http or https"),
        ("file:///etc/passwd", "http or https"),
        ("gopher://example.com/", "http or https"),
        ("example.com/hook", "http or https"),
        ("http:///hook", "no host"),
        ("http://[::1/", "not a valid URL"),
        ("http://hooks.example:99999/", "invalid port"),
        ("https://example.com/" + "a" * 2100, "longer than"),
    ],
)
def test_guard_refuses_what_is_not_an_http_url(url: str, message: str) -> None:
    for allow_private in (False, True):
        with pytest.raises(InvalidRequest) as caught:
            check_url(url, allow_private=allow_private, resolver=lambda h, p: ["93.184.216.34"])
        assert message in caught.value.message
        assert caught.value.param == "callback_url"


def test_guard_allows_public_addresses_and_names() -> None:
    public = lambda host, port: ["93.184.216.34", "2606:2800:220:1::"]  # noqa: E731
    for url in (
        "https://hooks.example.com/cb",
        "http://93.184.216.34:8080/cb",
        "https://[2606:2800:220:1::]/cb",
        "http://[64:ff9b::808:808]/cb",  # NAT64 of 8.8.8.8
        "https://bücher.example/cb",
    ):
        checked = check_url(url, allow_private=False, resolver=public)
        assert checked.addresses


def test_guard_resolves_with_the_idna_name_and_the_port() -> None:
    asked: list[tuple[str, int]] = []

    def resolver(host: str, port: int) -> Sequence[str]:
        asked.append((host, port))
        return ["93.184.216.34"]

    check_url("https://bücher.example/cb", allow_private=False, resolver=resolver)
    check_url("http://hooks.example:8080/cb", allow_private=False, resolver=resolver)
    assert asked == [("xn--bcher-kva.example", 443), ("hooks.example", 8080)]


def test_guard_refuses_a_name_that_does_not_resolve() -> None:
    def resolver(host: str, port: int) -> Sequence[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    with pytest.raises(InvalidRequest, match="could not be resolved"):
        check_url("https://nowhere.invalid/", allow_private=True, resolver=resolver)


def test_sender_check_url_uses_the_setting() -> None:
    with pytest.raises(InvalidRequest):
        StandardWebhookSender(SECRET).check_url("http://127.0.0.1:9/")
    StandardWebhookSender(SECRET, allow_private=True).check_url("http://127.0.0.1:9/")


# --- Retry-After ---------------------------------------------------------------------------------


def test_retry_after_header_forms() -> None:
    parse = sender_module._retry_after
    assert parse(None) is None
    assert parse("5") == 5
    assert parse("-3") == 0
    assert parse("soon") is None
    later = datetime.now(UTC) + timedelta(seconds=120)
    seconds = parse(format_datetime(later, usegmt=True))
    assert seconds is not None and 110 < seconds <= 120


# --- the secret -----------------------------------------------------------------------------------


def test_a_new_secret_is_whsec_and_32_random_bytes() -> None:
    first, second = new_secret(), new_secret()
    assert validate_secret(first) == first and first != second
    assert len(base64.b64decode(first.removeprefix("whsec_"))) == 32


def test_a_broken_secret_file_of_before_is_a_clear_error(tmp_path: Path) -> None:
    assert read_secret_file(tmp_path) is None
    secret_path(tmp_path).write_text("whsec_short\n")
    with pytest.raises(ConfigurationError, match="SCRIBE_WEBHOOK_SECRET"):
        read_secret_file(tmp_path)


@pytest.mark.parametrize(
    "value",
    ["MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_!!notbase64!!", "whsec_" + "QUJD", "whsec_"],
)
def test_settings_refuse_a_malformed_secret(value: str) -> None:
    with pytest.raises(ValidationError, match="webhook_secret"):
        Settings(webhook_secret=value)


def test_from_settings_signs_with_the_configured_secret(tmp_path: Path, receiver: Receiver) -> None:
    settings = Settings(
        data_dir=tmp_path,
        webhook_secret=SECRET,
        callback_allow_private=True,
        webhook_timeout_seconds=0.2,
    )
    secret = SigningSecret(settings, None)  # no database needed: the setting is the secret
    assert secret.found() == (SECRET, "SCRIBE_WEBHOOK_SECRET")
    sender = StandardWebhookSender.from_settings(settings, secret)
    assert send(sender, receiver.url()).ok
    [got] = receiver.received
    Webhook(SECRET).verify(got.body, got.headers)
    assert list(tmp_path.iterdir()) == []
    receiver.delay = 0.5  # the setting's timeout
    started = time.monotonic()
    assert send(sender, receiver.url()).retryable
    assert time.monotonic() - started < 0.45


def test_the_cli_prints_the_configured_secret_without_a_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from scribe import cli

    monkeypatch.setenv("SCRIBE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SCRIBE_WEBHOOK_SECRET", SECRET)
    assert cli.main(["webhooks", "secret"]) == 0
    printed = capsys.readouterr()
    assert printed.out.strip() == SECRET and "from SCRIBE_WEBHOOK_SECRET" in printed.err
    assert list(tmp_path.iterdir()) == []  # no database made, no file


def test_a_secret_that_cannot_be_found_fails_the_attempt_and_sends_nothing(
    tmp_path: Path, receiver: Receiver
) -> None:
    settings = Settings(data_dir=tmp_path, webhook_secret=None, callback_allow_private=True)
    sender = StandardWebhookSender.from_settings(settings, SigningSecret(settings, None))
    outcome = asyncio.run(
        sender.send(
            receiver.url(), "job.completed", {}, webhook_id="msg_1", timestamp=datetime.now(UTC)
        )
    )
    assert not outcome.ok and outcome.retryable and "SCRIBE_WEBHOOK_SECRET" in (outcome.error or "")
    assert receiver.received == []


# --- the README's receiver ------------------------------------------------------------------------


def test_the_readme_receiver_accepts_a_real_callback_and_refuses_a_forged_one() -> None:
    import re

    import uvicorn

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## Job callbacks", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None
    namespace: dict[str, Any] = {}
    exec(code.group(1).replace('"whsec_..."', repr(SECRET)), namespace)

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(namespace["app"], host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        url = f"http://127.0.0.1:{port}/scribe-callback"
        assert send(local_sender(), url, {"id": "job_1", "status": "completed"}).ok
        forged = StandardWebhookSender(new_secret(), allow_private=True)
        outcome = send(forged, url)  # 400 from the receiver: not retried
        assert outcome == SendOutcome(False, "HTTP 400", retryable=False)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
