"""JSON API about the signed-in account."""

from django.http import HttpRequest
from ninja import Router

from accounts.schemas import Me
from billing.selectors import balance_for
from rollerai.api import error_responses
from rollerai.auth import signed_in_user

router = Router(tags=["account"])


@router.get("/me", response={200: Me, **error_responses(401)})
def me(request: HttpRequest) -> Me:
    """The signed-in account and its credits."""
    user = signed_in_user(request)
    return Me(username=user.get_username(), credits=balance_for(user))
