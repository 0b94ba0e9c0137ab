from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('generation', '0004_finished_index'),
    ]

    operations = [
        migrations.AddField(
            model_name='generation',
            name='run_token',
            field=models.CharField(blank=True, max_length=32),
        ),
        migrations.AddField(
            model_name='generation',
            name='revision',
            field=models.PositiveIntegerField(default=1),
        ),
    ]
