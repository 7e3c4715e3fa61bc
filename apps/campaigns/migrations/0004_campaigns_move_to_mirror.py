"""Campaigns and their emails now belong to the mirror floor (apps.mirror,
migration 0001): approvals and send jobs point at mirror.Campaign, and the
models are forgotten here, state only. Their tables stay, with every row;
mirror's 0002 renames them."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('campaigns', '0003_campaign_contributors'),
        ('mirror', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.AlterField(
                    model_name='sendjob',
                    name='campaign',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='jobs', to='mirror.campaign'),
                ),
                migrations.AlterField(
                    model_name='approval',
                    name='campaign',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='approvals', to='mirror.campaign'),
                ),
                migrations.RemoveField(
                    model_name='campaign',
                    name='author',
                ),
                migrations.RemoveField(
                    model_name='campaign',
                    name='contributors',
                ),
                migrations.RemoveField(
                    model_name='campaign',
                    name='workspace',
                ),
                migrations.RemoveField(
                    model_name='emailactivity',
                    name='campaign',
                ),
                migrations.DeleteModel(
                    name='EmailActivity',
                ),
                migrations.DeleteModel(
                    name='Campaign',
                ),
            ],
        ),
    ]
