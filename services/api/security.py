"""Security headers on every answer: our Content-Type never sniffed, no framing, no cached API data."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# nosniff: a browser that sniffed an image or a font as HTML could run script from it. The frame headers:
# no other site may show our pages in a frame (clickjacking the upload or delete buttons).
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
}
# API answers hold one person's data (and the create answer a secret token): no cache keeps them unless
# the route says otherwise (downloads and the template do).
API_CACHE_CONTROL = "no-store"
# An SVG opened on its own is a document that could run script: ours (QR codes) never need any.
SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"


class SecurityHeaders:
    """ASGI middleware adding SECURITY_HEADERS to every HTTP response, errors and early refusals included.

    Plain ASGI (not BaseHTTPMiddleware) so streamed bodies and the upload size limit pass through untouched.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if headers.get("content-type", "").startswith("image/svg+xml"):
                    headers.setdefault("Content-Security-Policy", SVG_POLICY)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if scope["path"].startswith("/api/"):
                    headers.setdefault("Cache-Control", API_CACHE_CONTROL)
            await send(message)

        await self.app(scope, receive, send_with_headers)
