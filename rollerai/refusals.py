"""The raw HTTP answer both servers send when they refuse a request before Django sees it (an
overlong URL or header): the API's JSON error shape under /api/, plain text elsewhere."""

import json


def refusal_response(*, status: str, code: str, message: str, api: bool) -> bytes:
    """`status` is the status line's code and reason, e.g. "414 URI Too Long"."""
    if api:
        body = json.dumps({"error": {"code": code, "message": message, "field": None}}).encode()
        content_type = b"application/json"
    else:
        body, content_type = message.encode(), b"text/plain; charset=utf-8"
    head = (
        b"HTTP/1.1 " + status.encode() + b"\r\nContent-Type: " + content_type
        + b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n"
    )  # fmt: skip
    return head + body
