"""The mirror floor takes over the mirrored models from contacts and campaigns.

The tables already exist (contacts and campaigns created them); this migration
only moves the models' *state* into the mirror app, keeping their tables, so no
row is touched. 0002 then gives the tables and indexes their mirror names.
"""

import django.db.models.deletion
import django.db.models.functions.text
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('accounts', '0002_workspace_require_second_approver'),
        ('contacts', '0002_contact_search_prefix_indexes'),
        ('campaigns', '0003_campaign_contributors'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='Campaign',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('cc_id', models.CharField(help_text="Constant Contact's campaign_id.", max_length=64)),
                        ('name', models.CharField(max_length=80)),
                        ('status', models.CharField(choices=[('draft', 'Draft'), ('scheduled', 'Scheduled'), ('executing', 'Sending'), ('done', 'Sent'), ('error', 'Error'), ('removed', 'Removed')], default='draft', max_length=12)),
                        ('type', models.CharField(blank=True, max_length=40)),
                        ('type_code', models.IntegerField(blank=True, null=True)),
                        ('created_upstream', models.DateTimeField(blank=True, null=True)),
                        ('updated_upstream', models.DateTimeField(blank=True, null=True)),
                        ('primary_activity_id', models.CharField(blank=True, max_length=64)),
                        ('permalink_activity_id', models.CharField(blank=True, max_length=64)),
                        ('raw', models.JSONField(blank=True, default=dict)),
                        ('synced_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('author', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('contributors', models.ManyToManyField(blank=True, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('workspace', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.workspace')),
                    ],
                    options={
                        'db_table': 'campaigns_campaign',
                        'ordering': ['-updated_upstream', '-id'],
                    },
                ),
                migrations.CreateModel(
                    name='Contact',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('cc_id', models.CharField(help_text="Constant Contact's id.", max_length=64)),
                        ('created_upstream', models.DateTimeField(blank=True, null=True)),
                        ('updated_upstream', models.DateTimeField(blank=True, null=True)),
                        ('raw', models.JSONField(blank=True, default=dict)),
                        ('synced_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('email', models.CharField(blank=True, help_text='Lower-cased address.', max_length=254)),
                        ('email_status', models.CharField(choices=[('explicit', 'Subscribed (explicit)'), ('implicit', 'Subscribed (implicit)'), ('pending_confirmation', 'Pending confirmation'), ('unsubscribed', 'Unsubscribed'), ('temp_hold', 'Temporary hold'), ('not_set', 'Not set')], default='not_set', max_length=24)),
                        ('opt_in_source', models.CharField(blank=True, max_length=20)),
                        ('opt_in_date', models.DateTimeField(blank=True, null=True)),
                        ('opt_out_source', models.CharField(blank=True, max_length=20)),
                        ('opt_out_date', models.DateTimeField(blank=True, null=True)),
                        ('opt_out_reason', models.CharField(blank=True, max_length=255)),
                        ('first_name', models.CharField(blank=True, max_length=50)),
                        ('last_name', models.CharField(blank=True, max_length=50)),
                        ('job_title', models.CharField(blank=True, max_length=50)),
                        ('company_name', models.CharField(blank=True, max_length=50)),
                        ('birthday_month', models.PositiveSmallIntegerField(blank=True, null=True)),
                        ('birthday_day', models.PositiveSmallIntegerField(blank=True, null=True)),
                        ('anniversary', models.CharField(blank=True, max_length=10)),
                        ('create_source', models.CharField(blank=True, max_length=20)),
                        ('update_source', models.CharField(blank=True, max_length=20)),
                        ('deleted_upstream', models.DateTimeField(blank=True, help_text='Set when the contact was deleted (removed) upstream.', null=True)),
                        ('phone_numbers', models.JSONField(blank=True, default=list)),
                        ('street_addresses', models.JSONField(blank=True, default=list)),
                        ('notes', models.JSONField(blank=True, default=list)),
                        ('custom_fields', models.JSONField(blank=True, default=list)),
                        ('search_text', models.CharField(blank=True, max_length=400)),
                        ('workspace', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.workspace')),
                    ],
                    options={
                        'db_table': 'contacts_contact',
                    },
                ),
                migrations.CreateModel(
                    name='ContactList',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('cc_id', models.CharField(help_text="Constant Contact's id.", max_length=64)),
                        ('created_upstream', models.DateTimeField(blank=True, null=True)),
                        ('updated_upstream', models.DateTimeField(blank=True, null=True)),
                        ('raw', models.JSONField(blank=True, default=dict)),
                        ('synced_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('name', models.CharField(max_length=255)),
                        ('description', models.TextField(blank=True)),
                        ('favorite', models.BooleanField(default=False)),
                        ('membership_count', models.PositiveIntegerField(blank=True, null=True)),
                        ('delete_activity_id', models.CharField(blank=True, max_length=64)),
                        ('workspace', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.workspace')),
                    ],
                    options={
                        'db_table': 'contacts_contactlist',
                        'ordering': [django.db.models.functions.text.Lower('name')],
                    },
                ),
                migrations.CreateModel(
                    name='CustomField',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('cc_id', models.CharField(help_text="Constant Contact's id.", max_length=64)),
                        ('created_upstream', models.DateTimeField(blank=True, null=True)),
                        ('updated_upstream', models.DateTimeField(blank=True, null=True)),
                        ('raw', models.JSONField(blank=True, default=dict)),
                        ('synced_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('label', models.CharField(max_length=50)),
                        ('name', models.CharField(blank=True, max_length=50)),
                        ('type', models.CharField(max_length=20)),
                        ('workspace', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.workspace')),
                    ],
                    options={
                        'db_table': 'contacts_customfield',
                        'ordering': [django.db.models.functions.text.Lower('label')],
                    },
                ),
                migrations.CreateModel(
                    name='EmailActivity',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('cc_id', models.CharField(help_text='campaign_activity_id', max_length=64)),
                        ('status', models.CharField(choices=[('draft', 'Draft'), ('scheduled', 'Scheduled'), ('executing', 'Sending'), ('done', 'Sent'), ('error', 'Error'), ('removed', 'Removed')], default='draft', max_length=12)),
                        ('format_type', models.IntegerField(default=5)),
                        ('from_name', models.CharField(blank=True, max_length=100)),
                        ('from_email', models.CharField(blank=True, max_length=80)),
                        ('reply_to_email', models.CharField(blank=True, max_length=80)),
                        ('subject', models.CharField(blank=True, max_length=200)),
                        ('preheader', models.CharField(blank=True, max_length=200)),
                        ('html_content', models.TextField(blank=True)),
                        ('contact_list_ids', models.JSONField(blank=True, default=list)),
                        ('segment_ids', models.JSONField(blank=True, default=list)),
                        ('physical_address_in_footer', models.JSONField(blank=True, default=dict)),
                        ('permalink_url', models.URLField(blank=True, max_length=500)),
                        ('planned_send_at', models.DateTimeField(blank=True, null=True)),
                        ('scheduled_at', models.DateTimeField(blank=True, null=True)),
                        ('sent_at', models.DateTimeField(blank=True, null=True)),
                        ('updated_upstream', models.DateTimeField(blank=True, null=True)),
                        ('raw', models.JSONField(blank=True, default=dict)),
                        ('synced_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('campaign', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='email', to='mirror.campaign')),
                    ],
                    options={
                        'db_table': 'campaigns_emailactivity',
                    },
                ),
                migrations.CreateModel(
                    name='ListMembership',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('contact', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to='mirror.contact')),
                        ('contact_list', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to='mirror.contactlist')),
                    ],
                    options={
                        'db_table': 'contacts_listmembership',
                    },
                ),
                migrations.AddField(
                    model_name='contact',
                    name='lists',
                    field=models.ManyToManyField(related_name='contacts', through='mirror.ListMembership', to='mirror.contactlist'),
                ),
                migrations.CreateModel(
                    name='SyncRun',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('scope', models.CharField(choices=[('contacts', 'Contacts, lists, tags and custom fields'), ('campaigns', 'Email campaigns')], help_text='What was synced.', max_length=20)),
                        ('kind', models.CharField(choices=[('full', 'Full'), ('incremental', 'Incremental')], max_length=12)),
                        ('status', models.CharField(choices=[('queued', 'Queued'), ('running', 'Running'), ('succeeded', 'Succeeded'), ('failed', 'Failed')], default='queued', max_length=10)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('started_at', models.DateTimeField(blank=True, null=True)),
                        ('finished_at', models.DateTimeField(blank=True, null=True)),
                        ('high_water_mark', models.DateTimeField(blank=True, null=True)),
                        ('phase', models.CharField(blank=True, max_length=40)),
                        ('total_expected', models.PositiveIntegerField(blank=True, null=True)),
                        ('processed', models.PositiveIntegerField(default=0)),
                        ('created_count', models.PositiveIntegerField(default=0)),
                        ('updated_count', models.PositiveIntegerField(default=0)),
                        ('deleted_count', models.PositiveIntegerField(default=0)),
                        ('api_calls', models.PositiveIntegerField(default=0)),
                        ('error', models.TextField(blank=True)),
                        ('requested_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('workspace', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.workspace')),
                    ],
                    options={
                        'db_table': 'contacts_syncrun',
                        'ordering': ['-created_at', '-id'],
                    },
                ),
                migrations.CreateModel(
                    name='Tag',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('cc_id', models.CharField(help_text="Constant Contact's id.", max_length=64)),
                        ('created_upstream', models.DateTimeField(blank=True, null=True)),
                        ('updated_upstream', models.DateTimeField(blank=True, null=True)),
                        ('raw', models.JSONField(blank=True, default=dict)),
                        ('synced_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('name', models.CharField(max_length=255)),
                        ('tag_source', models.CharField(blank=True, max_length=100)),
                        ('contacts_count', models.PositiveIntegerField(blank=True, null=True)),
                        ('delete_activity_id', models.CharField(blank=True, max_length=64)),
                        ('workspace', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.workspace')),
                    ],
                    options={
                        'db_table': 'contacts_tag',
                        'ordering': [django.db.models.functions.text.Lower('name')],
                    },
                ),
                migrations.CreateModel(
                    name='Tagging',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('contact', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to='mirror.contact')),
                        ('tag', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to='mirror.tag')),
                    ],
                    options={
                        'db_table': 'contacts_tagging',
                    },
                ),
                migrations.AddField(
                    model_name='contact',
                    name='tags',
                    field=models.ManyToManyField(related_name='contacts', through='mirror.Tagging', to='mirror.tag'),
                ),
                migrations.AddIndex(
                    model_name='campaign',
                    index=models.Index(fields=['workspace', 'status', '-updated_upstream'], name='campaigns_c_workspa_45cc81_idx'),
                ),
                migrations.AddIndex(
                    model_name='campaign',
                    index=models.Index(fields=['workspace', '-created_upstream'], name='campaigns_c_workspa_723923_idx'),
                ),
                migrations.AddConstraint(
                    model_name='campaign',
                    constraint=models.UniqueConstraint(fields=('workspace', 'cc_id'), name='campaign_cc_id_unique'),
                ),
                migrations.AddConstraint(
                    model_name='contactlist',
                    constraint=models.UniqueConstraint(fields=('workspace', 'cc_id'), name='contactlist_cc_id_unique'),
                ),
                migrations.AddConstraint(
                    model_name='customfield',
                    constraint=models.UniqueConstraint(fields=('workspace', 'cc_id'), name='customfield_cc_id_unique'),
                ),
                migrations.AddIndex(
                    model_name='listmembership',
                    index=models.Index(fields=['contact_list', 'contact'], name='contacts_li_contact_1e88de_idx'),
                ),
                migrations.AddConstraint(
                    model_name='listmembership',
                    constraint=models.UniqueConstraint(fields=('contact', 'contact_list'), name='listmembership_unique'),
                ),
                migrations.AddIndex(
                    model_name='syncrun',
                    index=models.Index(fields=['workspace', 'scope', '-created_at'], name='contacts_sy_workspa_01c8a5_idx'),
                ),
                migrations.AddConstraint(
                    model_name='tag',
                    constraint=models.UniqueConstraint(fields=('workspace', 'cc_id'), name='tag_cc_id_unique'),
                ),
                migrations.AddIndex(
                    model_name='tagging',
                    index=models.Index(fields=['tag', 'contact'], name='contacts_ta_tag_id_aee967_idx'),
                ),
                migrations.AddConstraint(
                    model_name='tagging',
                    constraint=models.UniqueConstraint(fields=('contact', 'tag'), name='tagging_unique'),
                ),
                migrations.AddIndex(
                    model_name='contact',
                    index=models.Index(fields=['workspace', 'email', 'id'], name='contact_email_keyset'),
                ),
                migrations.AddIndex(
                    model_name='contact',
                    index=models.Index(fields=['workspace', 'last_name', 'id'], name='contact_name_keyset'),
                ),
                migrations.AddIndex(
                    model_name='contact',
                    index=models.Index(fields=['workspace', 'updated_upstream', 'id'], name='contact_updated_keyset'),
                ),
                migrations.AddIndex(
                    model_name='contact',
                    index=models.Index(fields=['workspace', 'created_upstream', 'id'], name='contact_created_keyset'),
                ),
                migrations.AddIndex(
                    model_name='contact',
                    index=models.Index(fields=['workspace', 'email_status', 'id'], name='contact_status_keyset'),
                ),
                migrations.AddConstraint(
                    model_name='contact',
                    constraint=models.UniqueConstraint(fields=('workspace', 'cc_id'), name='contact_cc_id_unique'),
                ),
            ],
        ),
    ]
