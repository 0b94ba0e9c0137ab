"""A fresh site starts with credit packs on sale (staff change them in the admin); a site that
already has packs keeps them as they are."""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

# The same packs as `manage.py create_credit_packs` (billing.services.packs.DEFAULT_PACKS),
# copied because a migration must not change when that list does.
DEFAULT_PACKS = [
    {"name": "Starter", "credits": 50, "price_cents": 500, "sort_order": 10},
    {"name": "Creator", "credits": 250, "price_cents": 2000, "sort_order": 20},
    {"name": "Studio", "credits": 1000, "price_cents": 6000, "sort_order": 30},
]


def create_default_packs(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    CreditPack = apps.get_model("billing", "CreditPack")
    if CreditPack.objects.exists():
        return
    CreditPack.objects.bulk_create(
        CreditPack(currency="usd", **default) for default in DEFAULT_PACKS
    )


def delete_default_packs(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    CreditPack = apps.get_model("billing", "CreditPack")
    for default in DEFAULT_PACKS:
        CreditPack.objects.filter(currency="usd", stripe_price_id="", **default).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0004_account_move"),
    ]

    operations = [
        migrations.RunPython(create_default_packs, delete_default_packs),
    ]
