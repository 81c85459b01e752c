"""System checks for configuration that would otherwise fail only at the first delivery."""

from django.conf import settings
from django.core.checks import Error, register
from django.utils.module_loading import import_string


@register()
def check_transports(app_configs, **kwargs):
    errors = []
    for kind, path in settings.PARLEY_TRANSPORTS.items():
        try:
            import_string(path)
        except ImportError as exc:
            errors.append(Error(f"transport for {kind!r} cannot be imported: {exc}", id="parley.E001"))
    return errors
