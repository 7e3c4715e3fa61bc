"""SyncAnomaly: what a sync could not mirror as Constant Contact sent it (a record
left out, a value clipped or left out), for the sync screen."""

from django.db import migrations, models
import django.db.models.deletion


class Migration(migrations.Migration):

    dependencies = [
        ('mirror', '0002_mirror_table_names'),
    ]

    operations = [
        migrations.CreateModel(
            name='SyncAnomaly',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('cc_id', models.CharField(blank=True, help_text="The record's Constant Contact id; empty when it had none usable.", max_length=64)),
                ('field', models.CharField(max_length=64)),
                ('problem', models.CharField(max_length=200)),
                ('quarantined', models.BooleanField(default=False, help_text='The whole record was left out of the mirror.')),
                ('sync_run', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='anomalies', to='mirror.syncrun')),
            ],
            options={
                'ordering': ['id'],
            },
        ),
    ]
