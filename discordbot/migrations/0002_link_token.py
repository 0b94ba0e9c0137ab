from django.db import migrations, models

import discordbot.models


def tokens_for_existing_messages(apps, schema_editor):  # type: ignore[no-untyped-def]
    DiscordMessage = apps.get_model("discordbot", "DiscordMessage")
    for message in DiscordMessage.objects.filter(link_token__isnull=True).only("id"):
        message.link_token = discordbot.models.link_token_new()
        message.save(update_fields=["link_token"])


class Migration(migrations.Migration):
    dependencies = [
        ("discordbot", "0001_discord_messages"),
    ]

    # Added empty, filled one message at a time, then made required: a callable default would
    # give every existing message the same token.
    operations = [
        migrations.AddField(
            model_name="discordmessage",
            name="link_token",
            field=models.CharField(max_length=32, null=True),
        ),
        migrations.RunPython(tokens_for_existing_messages, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="discordmessage",
            name="link_token",
            field=models.CharField(
                default=discordbot.models.link_token_new, max_length=32, unique=True
            ),
        ),
    ]
