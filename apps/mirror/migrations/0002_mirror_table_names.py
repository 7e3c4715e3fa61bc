"""The mirrored tables and their unnamed indexes get the mirror's own names
(contacts_contact becomes mirror_contact, and so on). A rename on both
PostgreSQL and SQLite: rows, keys and the search indexes go with each table."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('mirror', '0001_initial'),
        ('contacts', '0003_models_move_to_mirror'),
        ('campaigns', '0004_campaigns_move_to_mirror'),
    ]

    operations = [
        migrations.AlterModelTable(name='campaign', table=None),
        migrations.AlterModelTable(name='emailactivity', table=None),
        migrations.AlterModelTable(name='contact', table=None),
        migrations.AlterModelTable(name='contactlist', table=None),
        migrations.AlterModelTable(name='customfield', table=None),
        migrations.AlterModelTable(name='listmembership', table=None),
        migrations.AlterModelTable(name='syncrun', table=None),
        migrations.AlterModelTable(name='tag', table=None),
        migrations.AlterModelTable(name='tagging', table=None),
        migrations.RenameIndex(model_name='campaign', new_name='campaign_status_updated_idx', old_name='campaigns_c_workspa_45cc81_idx'),
        migrations.RenameIndex(model_name='campaign', new_name='campaign_created_idx', old_name='campaigns_c_workspa_723923_idx'),
        migrations.RenameIndex(model_name='listmembership', new_name='listmembership_list_idx', old_name='contacts_li_contact_1e88de_idx'),
        migrations.RenameIndex(model_name='syncrun', new_name='syncrun_scope_created_idx', old_name='contacts_sy_workspa_01c8a5_idx'),
        migrations.RenameIndex(model_name='tagging', new_name='tagging_tag_idx', old_name='contacts_ta_tag_id_aee967_idx'),
    ]
