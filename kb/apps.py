from django.apps import AppConfig


class KbConfig(AppConfig):
    """Knowledge base: articles, help center, search, deflection. Filled in by its own issue."""

    name = "kb"
    verbose_name = "Knowledge base"
