from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in
from django.db import connections
from django.db.models.signals import post_migrate

from contact_center import search_index


class ContactCenterConfig(AppConfig):
    name = "contact_center"
    verbose_name = "Contact center"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from contact_center import checks  # noqa: F401  (registers system checks)

        post_migrate.connect(_repair_search_index, sender=self)
        # Every sign-in (console, Django admin, force_login) lists its session (contact_center/session_tracking.py).
        from contact_center.session_tracking import on_signed_in

        user_logged_in.connect(on_signed_in, dispatch_uid="parley.session_tracking")


def _repair_search_index(using, **kwargs):
    """SQLite loses a table's triggers when a migration rebuilds the table: put back search's."""
    search_index.repair(connections[using])
