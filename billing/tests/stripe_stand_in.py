"""Stripe's side, made locally: a loopback stand-in of the few API calls the site makes (it records
each form-encoded request and answers with Stripe's objects), the recorded webhook events, and
signatures made exactly as Stripe makes them."""

import copy
import hashlib
import hmac
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

EVENTS_DIR = Path(__file__).resolve().parent / "stripe_events"


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    form: dict[str, str]


@dataclass
class StripeStandIn:
    """Answers POST /v1/checkout/sessions and POST /v1/prices like Stripe's test mode does."""

    requests: list[RecordedRequest] = field(default_factory=list)
    # Set to (status, error) to make the next request fail the way Stripe's API fails.
    next_failure: tuple[int, dict[str, Any]] | None = None
    prices: dict[str, dict[str, Any]] = field(default_factory=dict)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "StripeStandIn":
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                request = RecordedRequest(
                    method="POST",
                    path=self.path,
                    headers={name.lower(): value for name, value in self.headers.items()},
                    form=dict(parse_qsl(body.decode(), keep_blank_values=True)),
                )
                stand_in.requests.append(request)
                status, answer = stand_in.answer(request)
                payload = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("Request-Id", f"req_{secrets.token_hex(7)}")
                # Errors here are final: the SDK must not retry them.
                self.send_header("Stripe-Should-Retry", "false")
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def answer(self, request: RecordedRequest) -> tuple[int, dict[str, Any]]:
        if self.next_failure is not None:
            failure, self.next_failure = self.next_failure, None
            return failure
        if request.path == "/v1/checkout/sessions":
            return 200, self.checkout_session(request.form)
        if request.path == "/v1/prices":
            return 200, self.price(request.form)
        return 404, {
            "error": {
                "type": "invalid_request_error",
                "message": f"Unrecognized request URL (POST: {request.path}).",
            }
        }

    def checkout_session(self, form: dict[str, str]) -> dict[str, Any]:
        session_id = f"cs_test_{secrets.token_hex(29)}"
        price_id = form.get("line_items[0][price]")
        if price_id:
            amount, currency = (
                self.prices[price_id]["unit_amount"],
                self.prices[price_id]["currency"],
            )
        else:
            amount = int(form["line_items[0][price_data][unit_amount]"])
            currency = form["line_items[0][price_data][currency]"]
        return {
            "id": session_id,
            "object": "checkout.session",
            "amount_subtotal": amount,
            "amount_total": amount,
            "cancel_url": form.get("cancel_url"),
            "client_reference_id": form.get("client_reference_id"),
            "created": int(time.time()),
            "currency": currency,
            "expires_at": int(time.time()) + 24 * 3600,
            "livemode": False,
            "metadata": {
                key[len("metadata[") : -1]: value
                for key, value in form.items()
                if key.startswith("metadata[")
            },
            "mode": form.get("mode"),
            "payment_intent": None,
            "payment_status": "unpaid",
            "status": "open",
            "success_url": form.get("success_url"),
            "url": f"https://checkout.stripe.com/c/pay/{session_id}#fidkdWxOYHwnPyd1blpxYHZxWjA0",
        }

    def price(self, form: dict[str, str]) -> dict[str, Any]:
        price = {
            "id": f"price_{secrets.token_hex(12)}",
            "object": "price",
            "active": True,
            "currency": form["currency"],
            "livemode": False,
            "metadata": {"pack_id": form.get("metadata[pack_id]")},
            "product": f"prod_{secrets.token_hex(7)}",
            "type": "one_time",
            "unit_amount": int(form["unit_amount"]),
        }
        self.prices[price["id"]] = price
        return price


def stripe_event(name: str, **object_fields: Any) -> dict[str, Any]:
    """A recorded webhook event from stripe_events/, with fields of its data.object replaced
    (the user and pack ids of this test, a session id from the stand-in)."""
    event = json.loads((EVENTS_DIR / f"{name}.json").read_text())
    event = copy.deepcopy(event)
    event["data"]["object"].update(object_fields)
    return event


def stripe_signature(payload: bytes, secret: str, *, timestamp: int | None = None) -> str:
    """The Stripe-Signature header as Stripe computes it: HMAC-SHA256 of "t.payload"."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def webhook_post(
    client: Any,
    event: dict[str, Any],
    *,
    secret: str,
    timestamp: int | None = None,
    body: bytes | None = None,
) -> Any:
    """Deliver an event to the webhook the way Stripe does: a JSON body and its signature.
    `body` replaces what is sent after signing, to tamper with it."""
    payload = json.dumps(event, indent=2).encode()
    return client.post(
        "/billing/stripe/webhook/",
        data=payload if body is None else body,
        content_type="application/json; charset=utf-8",
        headers={"Stripe-Signature": stripe_signature(payload, secret, timestamp=timestamp)},
    )
