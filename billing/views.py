"""The credits page: balance and ledger history."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from billing.selectors import balance_for, ledger_for
from rollerai.auth import signed_in_user


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    return render(
        request,
        "billing/overview.html",
        {"balance": balance_for(user), "entries": ledger_for(user)},
    )
