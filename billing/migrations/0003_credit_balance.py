"""Balances move from accounts' Profile to billing, which owns the ledger they summarise."""

from django.conf import settings
from django.db import migrations, models


def balances_copy(apps, schema_editor):
    Profile = apps.get_model("accounts", "Profile")
    CreditBalance = apps.get_model("billing", "CreditBalance")
    CreditBalance.objects.bulk_create(
        CreditBalance(user_id=user_id, credits=credits)
        for user_id, credits in Profile.objects.values_list("user_id", "credits").iterator()
    )


def balances_copy_back(apps, schema_editor):
    Profile = apps.get_model("accounts", "Profile")
    CreditBalance = apps.get_model("billing", "CreditBalance")
    for user_id, credits in CreditBalance.objects.values_list("user_id", "credits").iterator():
        Profile.objects.filter(user_id=user_id).update(credits=credits)


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0001_initial"),
        ("billing", "0002_credit_packs_and_payments"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="CreditBalance",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("credits", models.PositiveIntegerField(default=0)),
                (
                    "user",
                    models.OneToOneField(
                        on_delete=models.deletion.CASCADE,
                        related_name="credit_balance",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("credits__gte", 0)), name="credit_balance_never_negative"
                    )
                ],
            },
        ),
        migrations.RunPython(balances_copy, balances_copy_back),
    ]
