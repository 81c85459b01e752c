import re

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower

# The colours the settings page offers, by name; any #rrggbb is accepted too. Chips show a dot of the
# colour beside the name in the page's own text colour, so no colour can make a name unreadable.
PALETTE = {
    "gray": "#64748b",
    "red": "#dc2626",
    "orange": "#ea580c",
    "yellow": "#ca8a04",
    "green": "#16a34a",
    "teal": "#0d9488",
    "blue": "#2563eb",
    "purple": "#9333ea",
    "pink": "#db2777",
}
_HEX = re.compile(r"^#[0-9a-f]{6}$")
NAME_MAX = 40


def validate_color(value) -> None:
    if not isinstance(value, str) or (value not in PALETTE and not _HEX.match(value)):
        raise ValidationError(f"a colour is one of {', '.join(PALETTE)} or #rrggbb")


class Label(models.Model):
    """A tag agents put on conversations (billing, vip…) to find and filter them. Shared by every inbox."""

    name = models.CharField(max_length=NAME_MAX)
    # A palette name or a lower-case #rrggbb; ``hex`` is what clients draw.
    color = models.CharField(max_length=7, default="blue", validators=[validate_color])
    description = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "cc_label"
        ordering = [Lower("name"), "pk"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"), name="label_name_ci_unique", violation_error_message="a label with this name exists"
            )
        ]

    def __str__(self):
        return self.name

    @property
    def hex(self) -> str:
        return PALETTE.get(self.color, self.color)
