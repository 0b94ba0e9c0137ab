"""Sign-up, sign-in (password or Firebase, rate-limited per address, and password sign-ins also
per account name), sign-out, changing the password, and the account page with API keys, the
Firebase link and the Discord link."""

import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm, UserCreationForm
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.discord_links import discord_link_code_create, discord_unlink
from accounts.firebase import (
    FirebaseIdentity,
    account_for_firebase,
    firebase_link,
    firebase_token_verify,
)
from accounts.selectors import api_keys_for
from accounts.services import (
    account_create,
    account_delete,
    account_password_change,
    account_sign_out,
    api_key_create,
    api_key_revoke,
)
from billing.selectors import balance_for
from rollerai.api import domain_error_response, error_response, json_body
from rollerai.auth import signed_in_user
from rollerai.exceptions import DomainError, InvalidRequest, RateLimited, Unavailable
from rollerai.ratelimit import (
    rate_limit_check,
    rate_limit_clear,
    rate_limit_count,
    rate_limit_hit,
)

log = logging.getLogger(__name__)
# Where a new Discord link code waits for the page that shows it, once.
DISCORD_LINK_CODE_SESSION_KEY = "discord_link_code"
NEW_API_KEY_SESSION_KEY = "new_api_key"


@contextmanager
def _limits_fail_open() -> Iterator[None]:
    """Sign-in limits live in Redis, but signing in needs only the database: while Redis is down
    people still sign in, unlimited for that while (logged), rather than nobody at all."""
    try:
        yield
    except Unavailable as error:
        log.warning("Sign-in limits are off while Redis is unreachable: %s", error.__cause__)


def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    form: UserCreationForm[User] = UserCreationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = account_create(
            username=form.cleaned_data["username"], password=form.cleaned_data["password1"]
        )
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("home")
    return render(request, "accounts/signup.html", {"form": form})


def sign_in_attempt_count(request: HttpRequest) -> None:
    """Count a sign-in attempt from this address; raises RateLimited past the limit."""
    with _limits_fail_open():
        _sign_in_attempt_hit(request)


def _sign_in_attempt_hit(request: HttpRequest) -> None:
    rate_limit_hit(
        scope="sign-in",
        who=request.META.get("REMOTE_ADDR", "unknown"),
        limit=settings.SIGN_INS_PER_MINUTE,
        window_seconds=60,
        message="Too many sign-in attempts from your network. Wait a minute and try again.",
    )


def _account_name(request: HttpRequest) -> str:
    # Hashed: the name is whatever was typed, of any length, and becomes part of a Redis key.
    typed = request.POST.get("username", "").strip().casefold()
    return hashlib.sha256(typed.encode()).hexdigest()


class SignInView(auth_views.LoginView):
    """Also limited per account name, so that guesses at one account spread over many addresses
    are stopped; only failures count there, so its owner still signs in while they are few."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            sign_in_attempt_count(request)
            with _limits_fail_open():
                rate_limit_check(
                    scope="sign-in-failures",
                    who=_account_name(request),
                    limit=settings.SIGN_IN_FAILURES_PER_ACCOUNT,
                    message="Too many failed sign-ins to this account. Wait a few minutes and "
                    "try again.",
                )
        except RateLimited as error:
            return self._refused(error)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form: Any) -> HttpResponse:
        with _limits_fail_open():
            rate_limit_count(
                scope="sign-in-failures",
                who=_account_name(self.request),
                window_seconds=settings.SIGN_IN_FAILURE_WINDOW_SECONDS,
            )
        return super().form_invalid(form)

    def form_valid(self, form: Any) -> HttpResponse:
        with _limits_fail_open():
            rate_limit_clear(scope="sign-in-failures", who=_account_name(self.request))
        return super().form_valid(form)

    def _refused(self, error: RateLimited) -> HttpResponse:
        form = self.get_form()
        form.add_error(None, error.message)
        response = self.render_to_response(self.get_context_data(form=form))
        response.status_code = 429
        response["Retry-After"] = str(error.retry_after)
        return response


class SignOutView(auth_views.LogoutView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        account_sign_out(request=request)
        return HttpResponseRedirect(self.get_success_url())


@login_required
def password_change(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    form = PasswordChangeForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        account_password_change(
            request=request, user=user, new_password=form.cleaned_data["new_password1"]
        )
        messages.success(request, "Your password was changed. Other browsers were signed out.")
        return redirect("account")
    return render(request, "accounts/password_change.html", {"form": form})


def _account_page(request: HttpRequest, **context: Any) -> HttpResponse:
    user = signed_in_user(request)
    return render(
        request,
        "accounts/account.html",
        {
            "api_keys": api_keys_for(user),
            "balance": balance_for(user),
            "discord_enabled": _discord_enabled(),
            # Shown this once: a reload of the page finds it gone.
            "discord_link_code": request.session.pop(DISCORD_LINK_CODE_SESSION_KEY, None),
            "discord_link_code_minutes": settings.DISCORD_LINK_CODE_MINUTES,
            # The same for a new API key: its only copy outside the user's hands until shown.
            "new_key": request.session.pop(NEW_API_KEY_SESSION_KEY, None),
            **context,
        },
    )


def _discord_enabled() -> bool:
    return bool(settings.DISCORD_APPLICATION_ID)


@login_required
def account(request: HttpRequest) -> HttpResponse:
    return _account_page(request)


@login_required
@require_POST
def api_key_new(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    try:
        api_key, key = api_key_create(user=user, name=request.POST.get("name", ""))
    except DomainError as error:
        return _account_page(request, key_error=error.message)
    # Redirected so a reload makes no second key; the page it lands on shows the key once.
    request.session[NEW_API_KEY_SESSION_KEY] = {"name": api_key.name, "key": key}
    return HttpResponseRedirect(reverse("account") + "#api-keys", status=303)


@login_required
@require_POST
def api_key_delete(request: HttpRequest, api_key_id: int) -> HttpResponse:
    user = signed_in_user(request)
    try:
        api_key_revoke(user=user, api_key_id=api_key_id)
        messages.success(request, "The API key was revoked; requests using it are now refused.")
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("account")


@login_required
@require_POST
def discord_link_code_new(request: HttpRequest) -> HttpResponse:
    """Makes a code to type into Discord's /link, shown by the account page it redirects to, so
    that reloading that page neither makes another code nor shows this one again."""
    if not _discord_enabled():
        raise Http404("Discord is not available on this site.")
    code = discord_link_code_create(user=signed_in_user(request))
    request.session[DISCORD_LINK_CODE_SESSION_KEY] = code
    return redirect(reverse("account") + "#discord")


@login_required
@require_POST
def discord_unlink_request(request: HttpRequest) -> HttpResponse:
    """Asks for confirmation first (a page of its own, which needs no script), then unlinks."""
    if not _discord_enabled():
        raise Http404("Discord is not available on this site.")
    user = signed_in_user(request)
    if request.POST.get("confirm") != "1":
        return render(request, "accounts/discord_unlink.html")
    try:
        discord_unlink(user=user)
        messages.success(
            request, "Your account is no longer linked to Discord; commands there no longer use it."
        )
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("account")


def _post_only(request: HttpRequest) -> JsonResponse | None:
    if request.method == "POST":
        return None
    response = error_response(405, "method_not_allowed", f"{request.method} is not allowed here.")
    response["Allow"] = "POST"
    return response


def _firebase_identity(body: Any) -> FirebaseIdentity:
    id_token = body.get("id_token") if isinstance(body, dict) else None
    if not isinstance(id_token, str) or not id_token:
        raise InvalidRequest(
            "Send the Firebase ID token as 'id_token'.", code="required", field="id_token"
        )
    return firebase_token_verify(id_token=id_token)


def _redirect_after_sign_in(request: HttpRequest, next_url: Any) -> str:
    # Only our own pages: an open redirect would let a link hand the new session to anyone.
    if isinstance(next_url, str) and url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return next_url
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def firebase_sign_in(request: HttpRequest) -> HttpResponse:
    """Signs in with a Firebase ID token from the browser SDK (CSRF-checked like any form)."""
    if (refused := _post_only(request)) is not None:
        return refused
    try:
        sign_in_attempt_count(request)
        body = json_body(request)
        user = account_for_firebase(identity=_firebase_identity(body))
    except DomainError as error:
        return domain_error_response(error)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return JsonResponse({"redirect": _redirect_after_sign_in(request, body.get("next"))})


def firebase_link_new(request: HttpRequest) -> HttpResponse:
    """Links a Firebase identity to the signed-in account, so it signs in here from now on."""
    if (refused := _post_only(request)) is not None:
        return refused
    if not request.user.is_authenticated:
        return error_response(401, "not_authenticated", "Sign in to link a Firebase account.")
    try:
        firebase_link(user=signed_in_user(request), identity=_firebase_identity(json_body(request)))
    except DomainError as error:
        return domain_error_response(error)
    return JsonResponse({"linked": True})


@login_required
@require_POST
def account_delete_request(request: HttpRequest) -> HttpResponse:
    """Deletes the signed-in account once its username has been typed again as confirmation."""
    user = signed_in_user(request)
    if request.POST.get("confirm_username", "").strip() != user.get_username():
        response = _account_page(
            request,
            delete_error="Type your username exactly as shown to confirm.",
        )
        response.status_code = 400
        return response
    account_delete(user=user)
    account_sign_out(request=request)
    messages.success(request, "Your account, its generations and their images were deleted.")
    return redirect("login")
