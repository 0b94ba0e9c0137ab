"""Staff views of billing: credit packs are edited here; the ledger, payments and Stripe events
are read-only, because every change must go through billing.services."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from billing.models import CreditEntry, CreditPack, Payment, StripeEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(CreditEntry)
class CreditEntryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "user", "kind", "amount", "reference", "note", "created_by"]
    list_filter = ["kind", "created_at"]
    search_fields = ["user__username", "reference", "note"]
    date_hierarchy = "created_at"


@admin.register(CreditPack)
class CreditPackAdmin(admin.ModelAdmin):
    list_display = ["name", "credits", "price_display", "active", "sort_order", "stripe_price_id"]
    list_editable = ["active", "sort_order"]
    list_filter = ["active", "currency"]
    search_fields = ["name", "stripe_price_id"]
    readonly_fields = ["created_at", "updated_at"]

    @admin.display(description="price", ordering="price_cents")
    def price_display(self, pack: CreditPack) -> str:
        return pack.price_display

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Payments refer to their pack; a pack that is no longer sold is made inactive.
        return False


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "user",
        "pack",
        "credits",
        "amount_display",
        "status",
        "credits_deducted",
        "credits_not_deducted",
    ]
    list_filter = ["status", "created_at"]
    search_fields = [
        "user__username",
        "stripe_checkout_session_id",
        "stripe_payment_intent_id",
    ]
    date_hierarchy = "created_at"
    list_select_related = ["user", "pack"]

    @admin.display(description="amount", ordering="amount")
    def amount_display(self, payment: Payment) -> str:
        return payment.amount_display


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "type", "event_id", "outcome", "livemode"]
    list_filter = ["type", "livemode"]
    search_fields = ["event_id", "outcome"]
    date_hierarchy = "received_at"
