"""Refuse request bodies over a size limit, with the error body, before anyone parses them."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import too_large


class BodyLimit:
    """A declared Content-Length over the limit is refused at once; an undeclared (chunked)
    body is cut off when it passes the limit, through the 413 handler in errors.py.
    """

    def __init__(
        self, app: ASGIApp, max_bytes: int, upload_max_bytes: int = 0, upload_prefix: str = ""
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        # Report uploads (POST/PUT under upload_prefix) may be as large as a source may be.
        self.upload_max_bytes = max(max_bytes, upload_max_bytes)
        self.upload_prefix = upload_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes
        upload = scope.get("method") in ("POST", "PUT") and self.upload_prefix
        if upload and scope["path"].startswith(self.upload_prefix):
            limit = self.upload_max_bytes
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await too_large(limit, scope["path"])(scope, receive, send)
            return
        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise HTTPException(413)
            return message

        await self.app(scope, counting_receive, send)
