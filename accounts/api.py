"""JSON API about the signed-in account."""

from django.http import HttpRequest, HttpResponse, JsonResponse

from billing.selectors import balance_for
from rollerai.api import api_endpoint
from rollerai.auth import signed_in_user


def me_detail(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    return JsonResponse({"username": user.get_username(), "credits": balance_for(user)})


me = api_endpoint({"GET": me_detail})
