from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "apps.contacts"
    label = "contacts"
    verbose_name = "Contacts, lists, tags and custom fields"

    def ready(self) -> None:
        # Starts the first sync once a workspace is connected.
        from apps.contacts import receivers  # noqa: F401
