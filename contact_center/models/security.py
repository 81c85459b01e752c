"""Agents' sign-in security: two-factor authentication, recovery codes, signed-in sessions, and the
site-wide policy admins set. Written only by contact_center/actions/agent_security.py."""

from django.db import models


class TwoFactor(models.Model):
    """An agent's confirmed TOTP authenticator. No row: the agent signs in with a password alone.

    The secret is stored as it is (a TOTP check needs it back); the database is as sensitive as the
    session table next to it. ``last_step`` is the 30-second time step of the last code accepted: a code
    of that step or an earlier one is a replay and is refused.
    """

    agent = models.OneToOneField("contact_center.Agent", on_delete=models.CASCADE, related_name="two_factor")
    secret = models.CharField(max_length=64)
    confirmed_at = models.DateTimeField()
    last_step = models.BigIntegerField(default=0)

    class Meta:
        db_table = "cc_two_factor"

    def __str__(self):
        return f"two-factor of agent {self.agent_id}"


class RecoveryCode(models.Model):
    """One single-use recovery code, stored as its SHA-256 (the codes carry 50 random bits each and
    every try is rate-limited, so a slow hash would add latency, not safety)."""

    agent = models.ForeignKey("contact_center.Agent", on_delete=models.CASCADE, related_name="recovery_codes")
    code_hash = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "cc_recovery_code"
        constraints = [models.UniqueConstraint(fields=["agent", "code_hash"], name="cc_recovery_code_unique")]

    def __str__(self):
        return f"recovery code {self.pk} of agent {self.agent_id}"


class AgentSession(models.Model):
    """One signed-in browser of an agent, for the sessions list and for revoking it.

    ``public_id`` is random and stays with the session while Django cycles its key (sign-in, password
    change); it names the session on the page, in events and in the revocation marker sockets read.
    ``session_key`` is the current key in the session store, which revocation deletes.
    """

    agent = models.ForeignKey("contact_center.Agent", on_delete=models.CASCADE, related_name="signed_in_sessions")
    public_id = models.CharField(max_length=32, unique=True)
    session_key = models.CharField(max_length=40, unique=True)
    user_agent = models.CharField(max_length=300, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()

    class Meta:
        db_table = "cc_agent_session"
        indexes = [models.Index(fields=["agent", "-last_seen_at"], name="cc_agent_session_seen")]

    def __str__(self):
        return f"session {self.public_id} of agent {self.agent_id}"


class SecurityPolicy(models.Model):
    """The site-wide sign-in policy admins set in Console → Settings → Security: one row, pk 1."""

    require_two_factor = models.BooleanField(default=False)

    class Meta:
        db_table = "cc_security_policy"
        verbose_name_plural = "security policy"

    def __str__(self):
        return "security policy"
