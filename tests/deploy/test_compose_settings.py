"""Every setting a channel needs (docs/configuration.md, "Email" and "SMS (Twilio)") reaches the Parley
containers of docker-compose.yml and is documented where an operator looks: docs/deployment.md and
deploy/env.example (a non-secret, set in .env) or deploy/make-secrets.sh (a secret, read from a file).

Compose passes a container only the variables its `environment:` names: a line in .env alone does nothing.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CHANNEL_SECTIONS = ("### Email:", "### SMS (Twilio)")
# The services running Parley: migrate, the http nodes (Twilio's webhooks), the web nodes and the worker.
PARLEY_SERVICES = {"migrate", "http1", "http2", "web1", "web2", "worker"}


def channel_settings() -> set[str]:
    """The variables the channel sections' tables of docs/configuration.md document."""
    text = (ROOT / "docs" / "configuration.md").read_text()
    found = set()
    for heading in CHANNEL_SECTIONS:
        assert f"\n{heading}" in text, f"docs/configuration.md has no section {heading!r}"
        section = text.split(f"\n{heading}", 1)[1].split("\n#", 1)[0]
        found |= set(re.findall(r"^\| `([A-Z][A-Z0-9_]*)` \|", section, re.MULTILINE))
    return found


def parse_yaml(text: str) -> dict:
    """The subset of YAML docker-compose.yml uses (block mappings and lists, flow lists, anchors, aliases
    and `<<` merges), so the check needs nothing but the standard library. Scalars stay strings."""
    lines = []
    for raw in text.splitlines():
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        lines.append((len(raw) - len(raw.lstrip()), raw.strip()))
    anchors: dict[str, object] = {}

    def scalar(value: str) -> object:
        value = re.sub(r"\s+#.*$", "", value) if not value.startswith(("'", '"')) else value
        if value.startswith("*"):
            return anchors[value[1:]]
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            return value[1:-1]
        return value

    def block(at: int, indent: int) -> tuple[object, int]:
        if lines[at][1].startswith("- "):
            items = []
            while at < len(lines) and lines[at][0] == indent and lines[at][1].startswith("- "):
                items.append(scalar(lines[at][1][2:]))
                at += 1
            return items, at
        mapping: dict[str, object] = {}
        while at < len(lines) and lines[at][0] == indent:
            key, _, value = lines[at][1].partition(":")
            value = value.strip()
            anchor = None
            if value.startswith("&"):
                anchor, _, value = value[1:].partition(" ")
            at += 1
            if value:
                node = scalar(value)
            elif at < len(lines) and lines[at][0] > indent:
                node, at = block(at, lines[at][0])
            else:
                node = None
            if anchor:
                anchors[anchor] = node
            if key == "<<":
                mapping = {**node, **mapping}
            else:
                mapping[key.strip().strip("'\"")] = node
        return mapping, at

    document, end = block(0, 0)
    assert end == len(lines), f"docker-compose.yml: cannot read {lines[end][1]!r}"
    return document


def compose_services() -> dict:
    compose = parse_yaml((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) >= PARLEY_SERVICES, sorted(services)
    # The reader works: the fixed settings every Parley container has come through the merges.
    for name in PARLEY_SERVICES:
        assert services[name]["environment"]["DEBUG"] == "0", name
    assert services["worker"]["environment"]["PARLEY_WORKER_HEARTBEAT_FILE"]
    return compose


def test_the_channel_sections_document_the_email_and_sms_settings():
    assert {"SMTP_URL", "PARLEY_MAIL_FROM", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"} <= channel_settings()


def test_every_channel_setting_reaches_every_parley_container(tmp_path):
    compose = compose_services()
    made = subprocess.run(
        ["bash", str(ROOT / "deploy" / "make-secrets.sh"), str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert made.returncode == 0, made.stderr
    env_example = (ROOT / "deploy" / "env.example").read_text()
    deployment = (ROOT / "docs" / "deployment.md").read_text()

    for setting in sorted(channel_settings()):
        assert setting in deployment, f"docs/deployment.md does not mention {setting}"
        for name in sorted(PARLEY_SERVICES):
            service = compose["services"][name]
            environment = service["environment"]
            if setting in environment:
                # From .env (or the shell): documented in the example, empty when unset.
                assert environment[setting] == f"${{{setting}:-}}", (name, setting, environment[setting])
                assert re.search(rf"^#?\s*{setting}=", env_example, re.MULTILINE), f"env.example lacks {setting}"
            else:
                # A secret: a file under /run/secrets/ that make-secrets.sh creates (empty: channel off).
                path = environment.get(f"{setting}_FILE")
                assert path, f"{setting} does not reach the {name} service"
                secret = path.removeprefix("/run/secrets/")
                assert secret in service["secrets"] and secret in compose["secrets"], (name, setting)
                assert (tmp_path / secret).exists(), f"make-secrets.sh does not create {secret}"
