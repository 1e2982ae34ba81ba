"""Generated answers from the openai backend against a real HTTP server on 127.0.0.1: the
request, the checked answer, streaming, and every failure path falling back to the composed
answer."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from generate_helpers import QUESTION, composed, events, expected_citations
from generate_helpers import _join_generation_threads as _join_generation_threads
from generate_helpers import retriever as retriever

from service.answers import Asker, CitationsEvent, DoneEvent
from service.answers.generators import make_generator
from service.answers.prompt import CLOSE, OPEN, build_messages
from service.query import understand
from service.retrieval import Retriever
from service.settings import Settings

FALLBACK = "openai backend failed ({}); showing the composed answer"


# ---- a chat-completions server ------------------------------------------------------------


class ChatServer:
    """An OpenAI-compatible chat-completions server on 127.0.0.1 that replies as told.

    mode: "ok" (reply, or chunks when the request streams), "sleep" (wait `delay` first),
    "stall" (stream the chunks, then wait `delay`), "500", "garbage".
    """

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.mode = "ok"
        self.reply = "示范区生产总值增长6.0%[2]。"
        self.chunks = ["示范区", "生产总值", "增长6.0%[2]", "。"]
        self.delay = 3.0
        self.release = threading.Event()  # set at teardown so sleeping handlers end
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append({"path": self.path, "body": body})
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    server.respond(self, body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def respond(self, h: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        if self.mode == "sleep":
            self.release.wait(self.delay)
        if self.mode == "500":
            return self._send(h, 500, b'{"error": {"message": "boom", "type": "server_error"}}')
        if body.get("stream"):
            h.send_response(200)
            h.send_header("Content-Type", "text/event-stream")
            h.end_headers()
            for chunk in self.chunks:
                if self.mode == "garbage":
                    h.wfile.write(b"data: {not json at all\n\n")
                    return
                h.wfile.write(f"data: {json.dumps(_chunk(chunk))}\n\n".encode())
                h.wfile.flush()
            if self.mode == "stall":
                self.release.wait(self.delay)
            h.wfile.write(b"data: [DONE]\n\n")
            return None
        if self.mode == "garbage":
            return self._send(h, 200, b"<html>this is not a completion</html>")
        return self._send(h, 200, json.dumps(_completion(self.reply)).encode())

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, status: int, data: bytes) -> None:
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def _completion(text: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 0,
        "model": "test-model",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        ],
    }


def _chunk(text: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "test-model",
        "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}],
    }


@pytest.fixture
def server() -> Iterator[ChatServer]:
    s = ChatServer()
    yield s
    s.close()


def openai_asker(retriever: Retriever, url: str, timeout_s: float = 5.0) -> Asker:
    settings = Settings(
        answer_backend="openai",
        openai_base_url=url,
        openai_model="test-model",
        generation_timeout_s=timeout_s,
        generator_max_new_tokens=64,
    )
    return Asker(retriever, generator=make_generator(settings))


# ---- openai backend -----------------------------------------------------------------------


def test_openai_answer_is_checked_and_cites_the_retrieved_hits(retriever, server):
    server.reply = "示范区生产总值增长6.0%[2]，另见[9]。"
    answer = openai_asker(retriever, server.url).ask(understand(QUESTION))
    citations = expected_citations(retriever, QUESTION)
    assert answer.text == "示范区生产总值增长6.0%[2]，另见。"
    assert answer.citations == citations
    assert (answer.backend, answer.grounded, answer.answerable) == ("openai", True, True)
    assert answer.warning is None
    assert answer.extra == {"removed_markers": [9]}
    assert answer.evidence_score == composed(retriever, QUESTION).evidence_score
    [request] = server.requests
    assert request["path"] == "/v1/chat/completions"
    body = request["body"]
    assert body["model"] == "test-model"
    assert body["max_tokens"] == 64
    assert not body.get("stream")
    assert body["messages"] == build_messages(QUESTION, citations, "zh")
    user = body["messages"][1]["content"]
    assert (
        "[2] 2020 《示范区政府工作报告》 | 一、过去一年工作回顾\n一、过去一年工作回顾\n\n"
        "\u3000\u3000过去一年，全区生产总值增长6.0%，达到1200亿元。" in user
    )
    assert user.index(OPEN) < user.index(CLOSE) < user.index("Question: ") < user.index("Rules (")
    assert user.endswith("\nAnswer:")


def test_openai_stream_sends_deltas_as_they_arrive_then_the_checked_answer(retriever, server):
    server.chunks = ["示范区", "生产总值增长", "6.0%[", "2]", "。[9", "]", "另见[1]。"]
    citations, deltas, done = events(openai_asker(retriever, server.url), QUESTION)
    assert citations == expected_citations(retriever, QUESTION)
    # A possible marker waits for its end; [9] (only 5 passages) never reaches the client.
    assert deltas == ["示范区", "生产总值增长", "6.0%", "[2]", "。", "另见[1]。"]
    assert done.text == "示范区生产总值增长6.0%[2]。另见[1]。" == "".join(deltas)
    assert (done.backend, done.grounded, done.answerable, done.warning) == (
        "openai",
        True,
        True,
        None,
    )
    assert done.citations == citations
    [request] = server.requests
    assert request["body"]["stream"] is True
    assert request["body"]["messages"] == build_messages(QUESTION, citations, "zh")


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ("示范区生产总值增长6.0%。", "not grounded: no [n] marker"),
        # 6.0% is in passage [2]; [1] does not hold it, nor does any passage hold 7.5.
        ("示范区生产总值增长6.0%[1]。", "not grounded: 6.0 not in the cited passages"),
        ("增长6.0%[2]，投资增长7.5%[2]。", "not grounded: 7.5 not in the cited passages"),
    ],
)
def test_ungrounded_answer_is_replaced_by_the_composed_one(retriever, server, reply, reason):
    server.reply = reply
    answer = openai_asker(retriever, server.url).ask(understand(QUESTION))
    expected = composed(retriever, QUESTION)
    assert (answer.text, answer.backend, answer.grounded) == (expected.text, "extractive", True)
    assert answer.warning == FALLBACK.format(reason)


def test_ungrounded_answer_is_kept_when_asked(retriever, server):
    server.reply = "示范区生产总值增长7.5%[1]。"
    asker = openai_asker(retriever, server.url)
    asker.keep_ungrounded = True
    answer = asker.ask(understand(QUESTION))
    assert (answer.text, answer.grounded, answer.answerable) == (server.reply, False, True)
    assert (answer.backend, answer.warning) == ("openai", None)


@pytest.mark.parametrize(
    "reply", ["报告中没有关于这个问题的内容。", "The passages do not contain the answer."]
)
def test_openai_refusal_is_not_answerable(retriever, server, reply):
    server.reply = reply
    answer = openai_asker(retriever, server.url).ask(understand(QUESTION))
    assert (answer.text, answer.answerable, answer.grounded) == (reply, False, False)
    assert answer.citations == expected_citations(retriever, QUESTION)


def test_openai_reasoning_block_is_not_part_of_the_answer(retriever, server):
    server.reply = "<think>The user asks… maybe [9]</think>\n增长6.0%[2]。"
    answer = openai_asker(retriever, server.url).ask(understand(QUESTION))
    assert (answer.text, answer.grounded, answer.extra) == ("增长6.0%[2]。", True, {})


def test_generate_false_calls_no_backend(retriever, server):
    asker = openai_asker(retriever, server.url)
    answer = asker.ask(understand(QUESTION, generate=False))
    assert answer.text is None and answer.backend == "extractive"
    assert answer.citations == expected_citations(retriever, QUESTION)
    streamed = list(asker.stream(understand(QUESTION, generate=False)))
    assert [type(e) for e in streamed] == [CitationsEvent, DoneEvent]
    assert server.requests == []


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
@pytest.mark.parametrize("failure", ["timeout", "500", "garbage", "gone", "empty"])
def test_openai_failures_fall_back_to_the_composed_answer(retriever, server, failure, stream):
    url = server.url
    if failure == "timeout":
        server.mode = "sleep"  # 3 s, against a 1 s timeout
    elif failure in ("500", "garbage"):
        server.mode = failure
    elif failure == "empty":
        server.reply, server.chunks = "", []
    else:
        with socket.socket() as s:  # a port nobody listens on
            s.bind(("127.0.0.1", 0))
            url = f"http://127.0.0.1:{s.getsockname()[1]}/v1"
    asker = openai_asker(retriever, url, timeout_s=1.0)
    if stream:
        citations, deltas, answer = events(asker, QUESTION)
        assert citations == expected_citations(retriever, QUESTION)
        assert deltas == []
    else:
        answer = asker.ask(understand(QUESTION))
    expected = composed(retriever, QUESTION)
    assert answer.text == expected.text
    assert answer.citations == expected.citations
    assert (answer.backend, answer.grounded, answer.answerable) == (
        "extractive",
        True,
        expected.answerable,
    )
    reason = {
        "timeout": "timeout after 1s",
        "500": f"HTTP 500 from {url}",
        "empty": "empty reply" if stream else "malformed reply (no message content)",
    }.get(failure)
    if reason is not None:
        assert answer.warning == FALLBACK.format(reason)
    elif failure == "garbage":
        assert answer.warning is not None
        assert answer.warning.startswith("openai backend failed (malformed reply (")
        assert answer.warning.endswith("); showing the composed answer")
    else:
        assert answer.warning is not None
        assert answer.warning.startswith(f"openai backend failed (cannot connect to {url}: ")
        assert "refused" in answer.warning.lower()


@pytest.mark.parametrize("mode", ["stall", "garbage"])
def test_openai_stream_failing_midway_ends_with_the_composed_answer(retriever, server, mode):
    server.mode = mode
    server.chunks = ["示范区", "生产总值"]
    _, deltas, done = events(openai_asker(retriever, server.url, 1.0), QUESTION)
    assert deltas == (["示范区", "生产总值"] if mode == "stall" else [])
    expected = composed(retriever, QUESTION)
    assert (done.text, done.citations, done.backend) == (
        expected.text,
        expected.citations,
        "extractive",
    )
    if mode == "stall":
        assert done.warning == FALLBACK.format("timeout after 1s")
    else:
        assert done.warning is not None and "malformed reply (" in done.warning


def test_no_hits_means_no_generation(retriever, server):
    asker = openai_asker(retriever, server.url)
    answer = asker.ask(understand("示范区", doc_id="flat-notes", section=None, k=1, mode="bm25"))
    assert answer.backend == "extractive" and answer.citations == []
    assert server.requests == []
