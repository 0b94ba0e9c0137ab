"""The credits page (balance, packs, payments, ledger), buying a pack through Stripe Checkout,
the pages Stripe sends the buyer back to, and Stripe's webhook."""

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseRedirectBase
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from billing.selectors import (
    balance_for,
    credit_packs_on_sale,
    ledger_for,
    payment_for_checkout,
    payments_for,
)
from billing.services.checkout import checkout_session_create
from billing.services.stripe_webhook import stripe_webhook_receive
from billing.stripe_client import NOT_CONFIGURED_MESSAGE, payments_configured
from rollerai.api import STATUS_BY_ERROR, domain_error_response, error_response
from rollerai.auth import signed_in_user
from rollerai.exceptions import DomainError


class HttpResponseSeeOther(HttpResponseRedirectBase):
    """303: the browser follows a POST's answer with a GET, as a checkout redirect should."""

    status_code = 303


def _overview_page(request: HttpRequest, *, status: int = 200, **context: Any) -> HttpResponse:
    user = signed_in_user(request)
    return render(
        request,
        "billing/overview.html",
        {
            "balance": balance_for(user),
            "packs": credit_packs_on_sale(),
            "not_configured_message": "" if payments_configured() else NOT_CONFIGURED_MESSAGE,
            "payments": payments_for(user),
            "entries": ledger_for(user),
            **context,
        },
        status=status,
    )


@login_required
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    return _overview_page(request)


@login_required
@require_POST
def checkout(request: HttpRequest) -> HttpResponse:
    try:
        payment = checkout_session_create(
            user=signed_in_user(request),
            pack_id=request.POST.get("pack", ""),
            site_url=request.build_absolute_uri("/").rstrip("/"),
        )
    except DomainError as error:
        return _overview_page(
            request,
            status=STATUS_BY_ERROR.get(type(error), 400),
            checkout_error=error.message,
        )
    return HttpResponseSeeOther(payment.checkout_url)


@login_required
@require_GET
def checkout_success(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    payment = payment_for_checkout(user, session_id=request.GET.get("session_id", ""))
    return render(
        request, "billing/success.html", {"balance": balance_for(user), "payment": payment}
    )


@login_required
@require_GET
def checkout_canceled(request: HttpRequest) -> HttpResponse:
    return render(request, "billing/canceled.html")


@csrf_exempt
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    # Stripe signs the body, not a session: CSRF protection has nothing to check here.
    if request.method != "POST":
        response = error_response(
            405, "method_not_allowed", f"{request.method} is not allowed here."
        )
        response["Allow"] = "POST"
        return response
    try:
        # Reading the body enforces DATA_UPLOAD_MAX_MEMORY_SIZE; Stripe's events are a few kB.
        outcome = stripe_webhook_receive(
            payload=request.body, signature=request.headers.get("Stripe-Signature", "")
        )
    except RequestDataTooBig:
        return error_response(413, "body_too_large", "The request body is too large.")
    except DomainError as error:
        return domain_error_response(error)
    return JsonResponse({"received": True, "outcome": outcome})
