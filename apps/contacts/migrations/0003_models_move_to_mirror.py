"""Contacts, lists, tags, custom fields and sync runs now belong to the mirror
floor (apps.mirror, migration 0001): forget them here, state only. Their tables
stay, with every row; mirror's 0002 renames them."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('contacts', '0002_contact_search_prefix_indexes'),
        ('mirror', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.RemoveField(
                    model_name='listmembership',
                    name='contact',
                ),
                migrations.RemoveField(
                    model_name='tagging',
                    name='contact',
                ),
                migrations.RemoveField(
                    model_name='contactlist',
                    name='workspace',
                ),
                migrations.RemoveField(
                    model_name='listmembership',
                    name='contact_list',
                ),
                migrations.RemoveField(
                    model_name='customfield',
                    name='workspace',
                ),
                migrations.RemoveField(
                    model_name='syncrun',
                    name='requested_by',
                ),
                migrations.RemoveField(
                    model_name='syncrun',
                    name='workspace',
                ),
                migrations.RemoveField(
                    model_name='tag',
                    name='workspace',
                ),
                migrations.RemoveField(
                    model_name='tagging',
                    name='tag',
                ),
                migrations.DeleteModel(
                    name='Contact',
                ),
                migrations.DeleteModel(
                    name='ContactList',
                ),
                migrations.DeleteModel(
                    name='ListMembership',
                ),
                migrations.DeleteModel(
                    name='CustomField',
                ),
                migrations.DeleteModel(
                    name='SyncRun',
                ),
                migrations.DeleteModel(
                    name='Tag',
                ),
                migrations.DeleteModel(
                    name='Tagging',
                ),
            ],
        ),
    ]
