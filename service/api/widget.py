"""The embeddable citation widget: GET /widget.js (the script) and GET /widget (the page alone)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from .deps import StateDep

router = APIRouter(tags=["widget"])

STATIC = Path(__file__).resolve().parent.parent / "static"
WIDGET_JS = STATIC / "widget.js"
WIDGET_HTML = STATIC / "widget.html"


def content_security_policy(frame_ancestors: str) -> str:
    """The /widget page's policy: its own script and API only, nothing inline, any framer."""
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        f"img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors {frame_ancestors}"
    )


@router.get("/widget.js", include_in_schema=False)
async def widget_js() -> FileResponse:
    """The widget script; any site may load it, the CORS allow-list decides who gets data."""
    return FileResponse(
        WIDGET_JS,
        media_type="text/javascript; charset=utf-8",
        headers={
            "Cache-Control": "public, max-age=300",
            "Cross-Origin-Resource-Policy": "cross-origin",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get("/widget", include_in_schema=False)
async def widget_page(state: StateDep) -> FileResponse:
    """A page with the widget alone, for an iframe or a quick look, under a strict CSP."""
    return FileResponse(
        WIDGET_HTML,
        media_type="text/html; charset=utf-8",
        headers={
            "Content-Security-Policy": content_security_policy(
                state.settings.widget_frame_ancestors
            ),
            "Cache-Control": "no-cache",
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
        },
    )
