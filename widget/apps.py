from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class WidgetConfig(AppConfig):
    name = "widget"
    verbose_name = "Website widget"

    def ready(self):
        from contact_center.models import Inbox
        from widget.inboxes import forget_saved_inbox

        # Django's own signals, so every path that saves an inbox (settings, the admin) is covered; a
        # queryset update() is not, and reaches sockets within widget.inboxes.TTL_SECONDS.
        post_save.connect(forget_saved_inbox, sender=Inbox, dispatch_uid="widget-inbox-saved")
        post_delete.connect(forget_saved_inbox, sender=Inbox, dispatch_uid="widget-inbox-deleted")
