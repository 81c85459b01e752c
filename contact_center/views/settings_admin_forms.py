"""The forms of Settings → Inboxes, Agents and Teams: plain Django forms, checked with the actions' ``check_*``.

Forms only turn posted fields into the values the actions take and attach each problem to its field;
the actions (contact_center/actions/settings_admin.py) check again and decide.

The inbox form writes only the config keys whose fields changed (Django's ``changed_data``), so a key
written by hand in Django admin, or a section another admin saved meanwhile, is left alone.
"""

from __future__ import annotations

from datetime import time
from decimal import ROUND_UP, Decimal
from zoneinfo import available_timezones

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError

from contact_center.actions import settings_admin as actions
from contact_center.actions.attachments import DEFAULT_MAX_BYTES, DEFAULT_TYPES, upload_limits
from contact_center.lib.availability import DAYS, check_business_hours
from contact_center.lib.sla import KEYS as SLA_KEYS
from contact_center.lib.sla import MAX_MINUTES as MAX_SLA_MINUTES
from contact_center.models import Agent, Inbox, Team

DAY_NAMES = dict(zip(DAYS, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"), strict=True))
# What the widget speaks (widget/static/widget/frame.js, STRINGS).
LOCALES = [("", "The visitor's browser language"), ("en", "English"), ("de", "German"), ("fr", "French")]
# widget/appearance.py's default (the core does not import the widget app).
DEFAULT_BRAND_COLOR = "#2563eb"
MB = Decimal(2**20)
# Two opening ranges a day (a lunch break) unless the stored hours already have more.
RANGES_PER_DAY = 2
TYPE_LABELS = {
    "image/png": "PNG images",
    "image/jpeg": "JPEG images",
    "image/gif": "GIF images",
    "image/webp": "WebP images",
    "application/pdf": "PDF documents",
    "text/plain": "Plain text",
    "application/octet-stream": "Any other file (not recognised by its content)",
}
HOURS_PREFIXES = ("hours_",)
PRECHAT_PREFIX = "prechat_"
# Empty rows under the pre-chat form's fields, for adding some.
PRECHAT_SPARE_ROWS = 2
PRECHAT_TYPE_CHOICES = [("", "As the name says"), ("text", "Text"), ("email", "Email address"), ("tel", "Phone number")]
ATTACHMENT_FIELDS = ("attachments_max_mb", "attachments_types", "attachments_other")


def _timezones() -> list[tuple[str, str]]:
    return [(zone, zone.replace("_", " ")) for zone in sorted(available_timezones())]


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.replace(",", "\n").splitlines() if line.strip()]


class AgentChoices(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def label_from_instance(self, agent: Agent) -> str:
        """ "Sam · sam", "Dana · demo · admin, sees every inbox", "Lee · lee · deactivated"."""
        parts = [agent.public_name, agent.username]
        if agent.sees_every_inbox:
            parts.append(f"{agent.get_role_display().lower()}, sees every inbox")
        if not agent.is_active:
            parts.append("deactivated")
        return " · ".join(parts)


# --- inboxes ------------------------------------------------------------------------------------


def check_origin_lines(text: str) -> list[str]:
    """The allowed origins typed one per line (commas work too), each checked; errors name every bad line."""
    origins, problems = [], []
    for line in _lines(text):
        try:
            origins.append(actions.check_origin(line))
        except ValidationError as exc:
            problems.append(exc.messages[0])
    if problems:
        raise ValidationError(problems)
    return actions.check_allowed_origins(origins)


class NewInboxForm(forms.Form):
    """Add an inbox of one kind: its ``kind`` (hidden, set by the page's choice) and name, plus what the
    kind needs (the subclasses). The action checks it all again."""

    kind = forms.ChoiceField(choices=[(kind, Inbox.Kind(kind).label) for kind in actions.CREATABLE_KINDS])
    name = forms.CharField(max_length=actions.NAME_MAX)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, initial={"kind": self.inbox_kind}, **kwargs)
        self.fields["kind"].widget = forms.HiddenInput()

    def clean_kind(self):
        kind = actions.check_inbox_kind(self.cleaned_data["kind"])
        if kind != self.inbox_kind:
            raise ValidationError("choose the kind of inbox again")
        return kind

    def clean_name(self):
        return actions.check_inbox_name(self.cleaned_data["name"])

    def create_arguments(self) -> dict:
        """What ``do_create_inbox`` takes besides the admin, the kind and the name."""
        return {}


class NewWidgetInboxForm(NewInboxForm):
    inbox_kind = Inbox.Kind.WIDGET
    allowed_origins = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "placeholder": "https://shop.example"}),
        help_text="The sites that may show this widget: one origin (scheme://host[:port]) per line.",
    )

    def clean_allowed_origins(self):
        return check_origin_lines(self.cleaned_data["allowed_origins"])

    def create_arguments(self) -> dict:
        return {"allowed_origins": self.cleaned_data["allowed_origins"]}


class _AddressField(forms.CharField):
    """An email or SMS inbox's address, checked by the action's ``check_inbox_address``."""

    def __init__(self, kind: str, **kwargs):
        self.kind = kind
        super().__init__(max_length=actions.ADDRESS_MAX, **kwargs)

    def clean(self, value):
        return actions.check_inbox_address(self.kind, super().clean(value))


EMAIL_ADDRESS_HELP = "The address customers write to, like support@shop.example. No other email inbox may have it."
SMS_NUMBER_HELP = (
    "A number of your Twilio account that can send and receive SMS, in international form: + and the "
    "country code, like +4721999999. No other SMS inbox may have it."
)


def _email_address_field() -> forms.CharField:
    return _AddressField(
        Inbox.Kind.EMAIL,
        label="Support address",
        widget=forms.EmailInput(attrs={"autocomplete": "off", "placeholder": "support@shop.example"}),
        help_text=EMAIL_ADDRESS_HELP,
    )


def _sms_number_field() -> forms.CharField:
    return _AddressField(
        Inbox.Kind.SMS,
        label="Twilio phone number",
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off", "placeholder": "+4721999999"}),
        help_text=SMS_NUMBER_HELP,
    )


class NewEmailInboxForm(NewInboxForm):
    inbox_kind = Inbox.Kind.EMAIL
    address = _email_address_field()

    def create_arguments(self) -> dict:
        return {"address": self.cleaned_data["address"]}


class NewSmsInboxForm(NewInboxForm):
    inbox_kind = Inbox.Kind.SMS
    address = _sms_number_field()

    def create_arguments(self) -> dict:
        return {"address": self.cleaned_data["address"]}


NEW_INBOX_FORMS: dict[str, type[NewInboxForm]] = {
    Inbox.Kind.WIDGET: NewWidgetInboxForm,
    Inbox.Kind.EMAIL: NewEmailInboxForm,
    Inbox.Kind.SMS: NewSmsInboxForm,
}


def new_inbox_form(kind: str | None, data=None) -> NewInboxForm:
    """The form that adds an inbox of ``kind``; a website widget's for a kind that cannot be added here
    (its posted ``kind`` is then refused by the form)."""
    return NEW_INBOX_FORMS.get(kind, NewWidgetInboxForm)(data)


class InboxForm(forms.Form):
    """Every inbox: name, team, members, automatic assignment. ``WidgetInboxForm`` adds the widget's own."""

    name = forms.CharField(max_length=actions.NAME_MAX)
    team = forms.ModelChoiceField(Team.objects.all(), required=False, empty_label="No team")
    members = AgentChoices(
        Agent.objects.none(),
        required=False,
        help_text="Agents see the conversations of the inboxes they are members of. Admins and supervisors "
        "see every inbox; as members they also count for automatic assignment and for who is online.",
    )
    auto_assign = forms.BooleanField(
        required=False,
        label="Assign new conversations automatically",
        help_text="Round robin among the members who are online, within each one's capacity (Agents page).",
    )
    sla_first_response_minutes = forms.IntegerField(
        label="First reply within (minutes)",
        required=False,
        min_value=1,
        max_value=MAX_SLA_MINUTES,
        help_text="How long a new conversation may wait for an agent's first reply; empty: no target.",
    )
    sla_next_response_minutes = forms.IntegerField(
        label="Each later reply within (minutes)",
        required=False,
        min_value=1,
        max_value=MAX_SLA_MINUTES,
        help_text="How long a customer who wrote again may wait; empty: no target. Nights and weekends count.",
    )

    def __init__(self, inbox: Inbox, *args, **kwargs):
        self.inbox = inbox
        super().__init__(*args, initial=self.initial_of(inbox), **kwargs)
        # Active agents, and members who were deactivated (so saving does not quietly drop them).
        members = set(inbox.members.values_list("pk", flat=True))
        self.fields["members"].queryset = (
            Agent.objects.filter(is_active=True) | Agent.objects.filter(pk__in=members)
        ).order_by("display_name", "username")

    def initial_of(self, inbox: Inbox) -> dict:
        config = inbox.config if isinstance(inbox.config, dict) else {}
        sla = config.get("sla") if isinstance(config.get("sla"), dict) else {}
        return {
            "name": inbox.name,
            "team": inbox.team_id,
            "members": list(inbox.members.values_list("pk", flat=True)),
            "auto_assign": config.get("auto_assign") is True,
            **{f"sla_{key}": sla.get(key) for key in SLA_KEYS},
        }

    def clean_name(self):
        return actions.check_inbox_name(self.cleaned_data["name"])

    def config_changes(self) -> dict:
        """The config keys whose fields changed: {key: value}, None removing the key (its default applies)."""
        changes = {}
        if "auto_assign" in self.changed_data:
            changes["auto_assign"] = True if self.cleaned_data["auto_assign"] else None
        if any(name.startswith("sla_") for name in self.changed_data):
            sla = {key: self.cleaned_data[f"sla_{key}"] for key in SLA_KEYS}
            changes["sla"] = {key: minutes for key, minutes in sla.items() if minutes is not None} or None
        return changes

    def allowed_origins(self) -> list[str] | None:
        return None

    def new_address(self) -> str | None:
        """The address to save (email and SMS inboxes); None leaves it as it is."""
        return None


class WidgetInboxForm(InboxForm):
    allowed_origins_text = forms.CharField(
        label="Allowed origins",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false", "placeholder": "https://shop.example"}),
        help_text="The sites that may show this widget: one origin (scheme://host[:port], no path) per line. "
        "Pages served by Parley itself always may.",
    )
    # Appearance (widget/appearance.py).
    title = forms.CharField(
        required=False, max_length=actions.TITLE_MAX, help_text="The widget's header; empty: the inbox's name."
    )
    greeting = forms.CharField(
        required=False,
        max_length=actions.GREETING_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="The first words visitors see; empty: a default greeting in the visitor's language.",
    )
    brand_color = forms.CharField(
        label="Brand colour",
        widget=forms.TextInput(attrs={"type": "color"}),
        help_text="The bubble, the header and buttons. Text on it is white or black, whichever reads better.",
    )
    position = forms.ChoiceField(
        choices=[("right", "Bottom right"), ("left", "Bottom left")], widget=forms.RadioSelect, label="Position"
    )
    avatar_url = forms.CharField(
        label="Picture",
        required=False,
        max_length=2048,
        help_text="An https:// image shown round in the header; empty: the title's initials.",
    )
    locale = forms.ChoiceField(choices=LOCALES, required=False, label="Language")
    csat = forms.BooleanField(
        required=False,
        label="Ask visitors to rate resolved conversations",
        help_text="A 1 to 5 rating and a comment, shown to agents on the timeline.",
    )
    require_identity_verification = forms.BooleanField(
        required=False,
        label="Accept only verified identities",
        help_text="Parley.identify() calls without a valid user_hash (signed with the secret below) are refused.",
    )
    # Business hours (contact_center/lib/availability.py); the per-day time fields are added in __init__.
    hours_enabled = forms.BooleanField(
        required=False,
        label="Live chat only during business hours",
        help_text="Outside them the widget takes an email address and a message instead.",
    )
    hours_timezone = forms.ChoiceField(label="Time zone", choices=())
    offline_without_agents = forms.BooleanField(
        required=False,
        label="Also go offline when no member of this inbox is online",
        help_text="Online: availability Online with a console open.",
    )
    attachments_max_mb = forms.DecimalField(
        label="Largest file (MB)",
        min_value=Decimal("0.01"),
        max_value=actions.MAX_UPLOAD_MB,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01"}),
    )
    attachments_types = forms.MultipleChoiceField(
        label="Files visitors may send", required=False, widget=forms.CheckboxSelectMultiple
    )
    attachments_other = forms.CharField(
        label="Other content types",
        required=False,
        help_text="One per line, e.g. application/zip (judged as the browser declares it).",
        widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "false"}),
    )

    prechat_enabled = forms.BooleanField(
        required=False,
        label="Ask for details before the first message",
        help_text="Visitors who have not written yet fill these in; verified users skip the form.",
    )
    prechat_phone_region = forms.CharField(
        label="Country of phone numbers",
        required=False,
        max_length=2,
        help_text="The ISO code (NO, DE, US) of numbers typed without +country code; empty: they need one.",
    )

    def __init__(self, inbox: Inbox, *args, **kwargs):
        prechat = (inbox.config or {}).get("prechat") if isinstance(inbox.config, dict) else None
        stored = prechat.get("fields") if isinstance(prechat, dict) else None
        self.prechat_rows = min(
            actions.PRECHAT_MAX_FIELDS, len(stored if isinstance(stored, list) else []) + PRECHAT_SPARE_ROWS
        )
        hours = (inbox.config or {}).get("business_hours") if isinstance(inbox.config, dict) else None
        days = hours.get("days") if isinstance(hours, dict) and isinstance(hours.get("days"), dict) else {}
        ranges = max([RANGES_PER_DAY, *(len(v) for v in days.values() if isinstance(v, list))])
        self.ranges_per_day = ranges
        super().__init__(inbox, *args, **kwargs)
        zones = _timezones()
        current_zone = self.initial.get("hours_timezone")
        if current_zone and current_zone not in dict(zones):
            zones.insert(0, (current_zone, current_zone))
        self.fields["hours_timezone"].choices = zones
        for day in DAYS:
            for index in range(ranges):
                for edge in ("opens", "closes"):
                    self.fields[f"hours_{day}_{index}_{edge}"] = forms.TimeField(
                        required=False,
                        label=_range_label(day, index, edge),
                        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
                    )
        for index in range(self.prechat_rows):
            number = index + 1
            self.fields[f"prechat_{index}_name"] = forms.CharField(
                required=False, max_length=64, label=f"Field {number} name"
            )
            self.fields[f"prechat_{index}_label"] = forms.CharField(
                required=False, max_length=actions.PRECHAT_LABEL_MAX, label=f"Field {number} label"
            )
            self.fields[f"prechat_{index}_type"] = forms.ChoiceField(
                required=False, choices=PRECHAT_TYPE_CHOICES, label=f"Field {number} type"
            )
            self.fields[f"prechat_{index}_required"] = forms.BooleanField(
                required=False, label=f"Field {number} required"
            )
        types = list(DEFAULT_TYPES) + ["application/octet-stream"]
        self.fields["attachments_types"].choices = [(t, f"{TYPE_LABELS[t]} ({t})") for t in types]
        locale = self.initial.get("locale")
        if locale and locale not in dict(LOCALES):
            self.fields["locale"].choices = [*LOCALES, (locale, locale)]

    def initial_of(self, inbox: Inbox) -> dict:
        initial = super().initial_of(inbox)
        config = inbox.config if isinstance(inbox.config, dict) else {}
        text = lambda key: config.get(key) if isinstance(config.get(key), str) else ""  # noqa: E731
        initial.update(
            allowed_origins_text="\n".join(inbox.allowed_origins or []),
            title=text("title"),
            greeting=text("greeting"),
            # A colour input cannot show a broken value: show the default, as the widget does.
            brand_color=_valid_color(text("brand_color")) or DEFAULT_BRAND_COLOR,
            position=config.get("position") if config.get("position") in actions.POSITIONS else "right",
            avatar_url=text("avatar_url"),
            locale=text("locale"),
            csat=bool(config.get("csat", True)),
            require_identity_verification=bool(config.get("require_identity_verification")),
            offline_without_agents=bool(config.get("offline_without_agents")),
        )
        hours = config.get("business_hours")
        initial["hours_enabled"] = isinstance(hours, dict)
        initial["hours_timezone"] = (hours or {}).get("timezone") if isinstance(hours, dict) else None
        initial["hours_timezone"] = initial["hours_timezone"] or settings.TIME_ZONE
        days = (hours or {}).get("days") if isinstance(hours, dict) else None
        for day, ranges in (days or {}).items() if isinstance(days, dict) else ():
            for index, pair in enumerate(ranges if isinstance(ranges, list) else []):
                if isinstance(pair, list | tuple) and len(pair) == 2:
                    initial[f"hours_{day}_{index}_opens"] = _time(pair[0])
                    initial[f"hours_{day}_{index}_closes"] = _time(pair[1])
        prechat = config.get("prechat") if isinstance(config.get("prechat"), dict) else {}
        initial["prechat_enabled"] = bool(prechat.get("enabled"))
        initial["prechat_phone_region"] = prechat.get("phone_region") or ""
        fields = prechat.get("fields") if isinstance(prechat.get("fields"), list) else []
        for index, field in enumerate(f for f in fields if isinstance(f, dict)):
            initial[f"prechat_{index}_name"] = str(field.get("name") or "")
            initial[f"prechat_{index}_label"] = str(field.get("label") or "")
            initial[f"prechat_{index}_type"] = field.get("type") if field.get("type") in actions.PRECHAT_TYPES else ""
            initial[f"prechat_{index}_required"] = bool(field.get("required"))
        limits = upload_limits(inbox)
        initial["attachments_max_mb"] = (Decimal(limits.max_bytes) / MB).quantize(Decimal("0.01"), ROUND_UP)
        known = set(DEFAULT_TYPES) | {"application/octet-stream"}
        initial["attachments_types"] = sorted(limits.types & known)
        initial["attachments_other"] = "\n".join(sorted(limits.types - known))
        return initial

    def hours_rows(self) -> list[dict]:
        """The business-hours table: one row per day, each with its (opens, closes) bound fields."""
        return [
            {
                "day": DAY_NAMES[day],
                "ranges": [
                    (self[f"hours_{day}_{index}_opens"], self[f"hours_{day}_{index}_closes"])
                    for index in range(self.ranges_per_day)
                ],
            }
            for day in DAYS
        ]

    def prechat_table(self) -> list[dict]:
        """The pre-chat form's rows: each field's name, label, type and required bound fields."""
        return [
            {part: self[f"prechat_{index}_{part}"] for part in ("name", "label", "type", "required")}
            for index in range(self.prechat_rows)
        ]

    def clean_allowed_origins_text(self):
        return check_origin_lines(self.cleaned_data["allowed_origins_text"])

    def clean_brand_color(self):
        return _field_check(actions.check_inbox_config, "brand_color", self.cleaned_data["brand_color"])

    def clean_avatar_url(self):
        return actions.check_avatar_url(self.cleaned_data["avatar_url"].strip())

    def clean_attachments_other(self):
        return [actions.check_content_type(line) for line in _lines(self.cleaned_data["attachments_other"])]

    def clean_prechat_phone_region(self):
        region = self.cleaned_data["prechat_phone_region"].strip()
        return actions.check_phone_region(region) if region else ""

    def clean(self):
        data = super().clean()
        self.business_hours = self._clean_hours(data) if data.get("hours_enabled") else None
        self.prechat = self._clean_prechat(data)
        return data

    def _clean_prechat(self, data: dict) -> dict | None:
        fields, seen = [], set()
        for index in range(self.prechat_rows):
            name_field = f"prechat_{index}_name"
            name = (data.get(name_field) or "").strip()
            if not name:
                continue
            try:
                name = actions.check_prechat_field_name(name)
            except ValidationError as exc:
                self.add_error(name_field, exc)
                continue
            if name in seen:
                self.add_error(name_field, f"{name} is asked for twice")
                continue
            seen.add(name)
            field = {"name": name, "required": bool(data.get(f"prechat_{index}_required"))}
            if (data.get(f"prechat_{index}_label") or "").strip():
                field["label"] = data[f"prechat_{index}_label"].strip()
            if data.get(f"prechat_{index}_type"):
                field["type"] = data[f"prechat_{index}_type"]
            fields.append(field)
        enabled = bool(data.get("prechat_enabled"))
        if enabled and not fields and "prechat_0_name" not in self.errors:
            self.add_error("prechat_0_name", "name at least one field, or untick the pre-chat form")
        if not enabled and not fields:
            return None
        prechat: dict = {"enabled": enabled, "fields": fields}
        if data.get("prechat_phone_region"):
            prechat["phone_region"] = data["prechat_phone_region"]
        return prechat

    def _clean_hours(self, data: dict) -> dict | None:
        days: dict[str, list[list[str]]] = {}
        for day in DAYS:
            for index in range(self.ranges_per_day):
                opens_name, closes_name = f"hours_{day}_{index}_opens", f"hours_{day}_{index}_closes"
                if opens_name in self.errors or closes_name in self.errors:
                    return None
                opens, closes = data.get(opens_name), data.get(closes_name)
                if opens is None and closes is None:
                    continue
                if opens is None or closes is None:
                    self.add_error(opens_name if opens is None else closes_name, "give both times, or neither")
                    return None
                if opens == closes and opens != time(0, 0):
                    self.add_error(closes_name, "it closes when it opens: give another time")
                    return None
                # Closing at 00:00 is closing at midnight: "24:00", which also makes 00:00-00:00 all day.
                end = "24:00" if closes == time(0, 0) else closes.strftime("%H:%M")
                days.setdefault(day, []).append([opens.strftime("%H:%M"), end])
        hours = {"timezone": data.get("hours_timezone") or "UTC", "days": days}
        try:
            check_business_hours(hours)
        except ValidationError as exc:
            self.add_error("hours_enabled", exc.messages[0])
            return None
        return hours

    def config_changes(self) -> dict:
        changes = super().config_changes()
        data, changed = self.cleaned_data, set(self.changed_data)
        for key in ("title", "greeting", "avatar_url", "locale"):
            if key in changed:
                changes[key] = data[key].strip() or None
        for key in ("brand_color", "position"):
            if key in changed:
                changes[key] = data[key]
        if "csat" in changed:
            changes["csat"] = None if data["csat"] else False  # on by default
        for key in ("require_identity_verification", "offline_without_agents"):
            if key in changed:
                changes[key] = True if data[key] else None
        if any(name.startswith(HOURS_PREFIXES) for name in changed):
            changes["business_hours"] = self.business_hours
        if any(name.startswith(PRECHAT_PREFIX) for name in changed):
            changes["prechat"] = self.prechat
        if changed & set(ATTACHMENT_FIELDS):
            limits = upload_limits(self.inbox)
            max_bytes = limits.max_bytes
            if "attachments_max_mb" in changed:
                max_bytes = int(data["attachments_max_mb"] * MB)
            types = [*data["attachments_types"], *data["attachments_other"]]
            default = max_bytes == DEFAULT_MAX_BYTES and set(types) == set(DEFAULT_TYPES)
            changes["attachments"] = None if default else {"max_bytes": max_bytes, "types": types}
        return changes

    def allowed_origins(self) -> list[str] | None:
        return self.cleaned_data["allowed_origins_text"]


def _range_label(day: str, index: int, edge: str) -> str:
    """ "Monday opens", "Monday opens again", "Monday range 3 closes": the time field's accessible name."""
    if index == 0:
        return f"{DAY_NAMES[day]} {edge}"
    if index == 1:
        return f"{DAY_NAMES[day]} {edge} again"
    return f"{DAY_NAMES[day]} range {index + 1} {edge}"


def _time(value) -> time | None:
    if not isinstance(value, str) or len(value) != 5 or value[2] != ":":
        return None
    if value == "24:00":
        return time(0, 0)
    try:
        return time(int(value[:2]), int(value[3:]))
    except ValueError:
        return None


def _valid_color(value: str) -> str | None:
    try:
        return _field_check(actions.check_inbox_config, "brand_color", value)
    except ValidationError:
        return None


def _field_check(check, key: str, value):
    """One config value through the action's check, with the problem alone (without ``key:``)."""
    try:
        return check(Inbox.Kind.WIDGET, {key: value})[key]
    except ValidationError as exc:
        raise ValidationError(exc.messages[0].removeprefix(f"{key}: ")) from None


class _AddressedInboxForm(InboxForm):
    """An email or SMS inbox: what every inbox has, and its address first."""

    field_order = ["name", "address"]

    def initial_of(self, inbox: Inbox) -> dict:
        return {**super().initial_of(inbox), "address": inbox.address}

    def new_address(self) -> str | None:
        return self.cleaned_data["address"]


class EmailInboxForm(_AddressedInboxForm):
    address = _email_address_field()


class SmsInboxForm(_AddressedInboxForm):
    address = _sms_number_field()


def inbox_form(inbox: Inbox, data=None) -> InboxForm:
    form_class = {
        Inbox.Kind.WIDGET: WidgetInboxForm,
        Inbox.Kind.EMAIL: EmailInboxForm,
        Inbox.Kind.SMS: SmsInboxForm,
    }.get(inbox.kind, InboxForm)
    return form_class(inbox, data)


# --- agents -------------------------------------------------------------------------------------


class _AgentFields(forms.Form):
    display_name = forms.CharField(
        required=False, max_length=actions.DISPLAY_NAME_MAX, help_text="What customers see; empty: the username."
    )
    email = forms.EmailField(required=False)
    role = forms.ChoiceField(
        choices=Agent.Role.choices,
        help_text="Agents see the inboxes they are members of. Supervisors see every inbox and keep canned "
        "responses and labels. Admins also change inboxes, agents and teams.",
    )
    inboxes = forms.ModelMultipleChoiceField(
        Inbox.objects.order_by("name", "pk"), required=False, widget=forms.CheckboxSelectMultiple
    )
    teams = forms.ModelMultipleChoiceField(Team.objects.all(), required=False, widget=forms.CheckboxSelectMultiple)
    max_open_conversations = forms.IntegerField(
        label="Capacity",
        required=False,
        min_value=1,
        max_value=1000,
        help_text="The most open conversations automatic assignment gives this agent; empty: no limit.",
    )

    def clean_display_name(self):
        return actions.check_display_name(self.cleaned_data["display_name"])


class _Passwords(forms.Form):
    password_required = True

    def clean(self):
        data = super().clean()
        first, second = data.get("password1"), data.get("password2")
        if (first or second) and first != second:
            self.add_error("password2", "the two passwords differ")
        elif first:
            try:
                password_validation.validate_password(first, self.password_user())
            except ValidationError as exc:
                self.add_error("password1", exc)
        return data

    def password_user(self) -> Agent:
        return Agent(username=self.cleaned_data.get("username", ""))


class NewAgentForm(_Passwords, _AgentFields):
    field_order = ["username", "display_name", "email", "role", "password1", "password2"]
    username = forms.CharField(
        max_length=150,
        validators=[Agent.username_validator],
        help_text="What they sign in with: letters, digits and @ . + - _",
    )
    password1 = forms.CharField(
        label="Initial password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="Give it to them; they change it under Password once signed in.",
    )
    password2 = forms.CharField(
        label="Initial password again", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        if Agent.objects.filter(username__iexact=username).exists():
            raise ValidationError(f"the username {username} is taken")
        return username


class AgentForm(_Passwords, _AgentFields):
    avatar_url = forms.CharField(
        label="Picture",
        required=False,
        max_length=500,
        help_text="An https:// image customers see beside this agent's replies; empty: their initials.",
    )
    is_active = forms.BooleanField(
        label="Active",
        required=False,
        help_text="Untick to deactivate: they are signed out and cannot sign in; their replies keep their name.",
    )
    password1 = forms.CharField(
        label="New password",
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="Only to replace theirs (a forgotten password); empty: unchanged.",
    )
    password2 = forms.CharField(
        label="New password again",
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, agent: Agent, *args, **kwargs):
        self.agent = agent
        initial = {
            "display_name": agent.display_name,
            "email": agent.email,
            "role": agent.role,
            "inboxes": list(agent.inboxes.values_list("pk", flat=True)),
            "teams": list(agent.teams.values_list("pk", flat=True)),
            "max_open_conversations": agent.max_open_conversations,
            "avatar_url": agent.avatar_url,
            "is_active": agent.is_active,
        }
        super().__init__(*args, initial=initial, **kwargs)

    def clean_avatar_url(self):
        return actions.check_avatar_url(self.cleaned_data["avatar_url"].strip())

    def password_user(self) -> Agent:
        return self.agent


# --- teams --------------------------------------------------------------------------------------


class TeamForm(forms.Form):
    name = forms.CharField(max_length=actions.NAME_MAX)
    members = AgentChoices(Agent.objects.none(), required=False)

    def __init__(self, *args, team: Team | None = None, **kwargs):
        initial = {"name": team.name, "members": list(team.members.values_list("pk", flat=True))} if team else None
        super().__init__(*args, initial=initial, **kwargs)
        members = set(team.members.values_list("pk", flat=True)) if team else set()
        self.fields["members"].queryset = (
            Agent.objects.filter(is_active=True) | Agent.objects.filter(pk__in=members)
        ).order_by("display_name", "username")

    def clean_name(self):
        return actions.check_team_name(self.cleaned_data["name"])
