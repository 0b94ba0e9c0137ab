from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0001_initial"),
        # The balances are copied there before they go from here.
        ("billing", "0003_credit_balance"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="profile", name="credits_never_negative"),
        migrations.RemoveField(model_name="profile", name="credits"),
    ]
