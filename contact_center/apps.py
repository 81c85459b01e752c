from django.apps import AppConfig


class ContactCenterConfig(AppConfig):
    name = "contact_center"
    verbose_name = "Contact center"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from contact_center import checks  # noqa: F401  (registers system checks)
