"""The ledger for staff: read-only, because every change must go through billing.services."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from billing.models import CreditEntry


@admin.register(CreditEntry)
class CreditEntryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "user", "kind", "amount", "reference", "note", "created_by"]
    list_filter = ["kind", "created_at"]
    search_fields = ["user__username", "reference", "note"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
