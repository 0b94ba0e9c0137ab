"""Staff views of users: balance, ledger and API keys, and manual credit adjustments."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from accounts.models import ApiKey, Profile
from accounts.services import account_delete
from billing.models import CreditEntry
from billing.services.credits import credits_adjust
from rollerai.auth import signed_in_user
from rollerai.exceptions import DomainError


class ProfileInline(admin.StackedInline):
    model = Profile
    can_delete = False
    readonly_fields = ["firebase_uid", "created_at"]


class CreditEntryInline(admin.TabularInline):
    model = CreditEntry
    fk_name = "user"
    extra = 0
    can_delete = False
    ordering = ["-created_at"]
    fields = readonly_fields = ("created_at", "kind", "amount", "reference", "note", "created_by")
    verbose_name_plural = "credit ledger"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class CreditAdjustmentForm(forms.Form):
    amount = forms.IntegerField(help_text="Positive to grant credits, negative to deduct them.")
    reason = forms.CharField(max_length=200, help_text="Kept in the ledger and shown to the user.")

    def clean_amount(self) -> int:
        amount: int = self.cleaned_data["amount"]
        if amount == 0:
            raise forms.ValidationError("The amount must not be zero.")
        return amount


admin.site.unregister(User)


@admin.register(User)
class RollerUserAdmin(UserAdmin):
    list_display = ["username", "email", "balance", "is_staff", "date_joined"]
    inlines = [ProfileInline, CreditEntryInline]
    actions = ["adjust_credits", "delete_accounts"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return super().get_queryset(request).select_related("credit_balance")

    # The balance only changes through the ledger: see the "Grant or deduct credits" action.
    @admin.display(description="credits", ordering="credit_balance__credits")
    def balance(self, user: User) -> int:
        balance = getattr(user, "credit_balance", None)
        return balance.credits if balance else 0

    @admin.action(description="Grant or deduct credits", permissions=["change"])
    def adjust_credits(self, request: HttpRequest, queryset: QuerySet[User]) -> HttpResponse | None:
        form = CreditAdjustmentForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            for user in queryset:
                try:
                    credits_adjust(
                        user=user,
                        amount=form.cleaned_data["amount"],
                        note=form.cleaned_data["reason"],
                        created_by=signed_in_user(request),
                    )
                    self.message_user(request, f"{user}: {form.cleaned_data['amount']:+d} credits.")
                except DomainError as error:
                    self.message_user(request, f"{user}: {error.message}", messages.ERROR)
            return None
        return TemplateResponse(
            request,
            "admin/accounts/adjust_credits.html",
            {
                **self.admin_site.each_context(request),
                "title": "Grant or deduct credits",
                "form": form,
                "users": queryset,
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
                "opts": self.model._meta,
            },
        )

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        # The stock bulk delete would leave the users' image files behind in storage.
        actions.pop("delete_selected", None)
        return actions

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        # The ledger, payments' owners and keys go with the account through account_delete;
        # staff who may delete users need no separate (and deliberately absent) permission to
        # delete ledger entries.
        deleted, counts, _, protected = super().get_deleted_objects(objs, request)
        return deleted, counts, set(), protected

    def delete_model(self, request: HttpRequest, obj: User) -> None:
        account_delete(user=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset:
            account_delete(user=user)

    @admin.action(
        description="Delete accounts with their generations and images", permissions=["delete"]
    )
    def delete_accounts(
        self, request: HttpRequest, queryset: QuerySet[User]
    ) -> HttpResponse | None:
        # Unlike the stock "delete selected", this removes the image files in storage too.
        if "confirm" in request.POST:
            for user in queryset:
                if user.pk == request.user.pk:
                    self.message_user(
                        request, "You cannot delete your own account here.", messages.ERROR
                    )
                    continue
                account_delete(user=user)
                self.message_user(request, f"Deleted {user.username} and their images.")
            return None
        return TemplateResponse(
            request,
            "admin/accounts/delete_accounts.html",
            {
                **self.admin_site.each_context(request),
                "title": "Delete accounts",
                "users": queryset,
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
                "opts": self.model._meta,
            },
        )


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "user__username", "prefix"]
    readonly_fields = ["user", "prefix", "key_hash", "created_at", "last_used_at"]
