"""Knowledge-base rows: articles, which widget inboxes offer them, and what visitors did with suggestions.

Inboxes are plain integer ids, not foreign keys: the kb imports nothing of the other apps (docs/architecture.md),
so an article scoped to an inbox that is later deleted keeps a dangling id that simply matches nothing.
"""

from __future__ import annotations

from django.db import models


class Article(models.Model):
    """One help article. ``body`` is plain text: paragraphs separated by blank lines (docs/decisions.md, D-KB)."""

    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    body = models.TextField()
    # Drafts are never suggested nor shown to visitors.
    published = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title

    def paragraphs(self) -> list[str]:
        """The body's paragraphs, without blank ones; single newlines stay inside a paragraph."""
        blocks = self.body.replace("\r\n", "\n").split("\n\n")
        return [block.strip() for block in blocks if block.strip()]


class ArticleInbox(models.Model):
    """Offers an article in one widget inbox. An article with no rows here is offered in every inbox."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="inboxes")
    inbox_id = models.PositiveBigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["article", "inbox_id"], name="kb_article_inbox_once")]

    def __str__(self) -> str:
        return f"{self.article} in inbox {self.inbox_id}"


class SuggestionEvent(models.Model):
    """What one visitor did with self-service suggestions. An ``answered`` row is a deflection: a question
    that ended without a conversation. Visitors are stored as a keyed hash (``kb.actions.visitor_hash``), so
    these rows count visitors without naming them."""

    class Kind(models.TextChoices):
        SHOWN = "shown", "suggestions shown"
        OPENED = "opened", "article opened"
        ANSWERED = "answered", "this answered my question"
        NEED_HELP = "need_help", "I still need help"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    inbox_id = models.PositiveBigIntegerField()
    visitor_hash = models.CharField(max_length=64)
    query = models.CharField(max_length=500, blank=True)
    # The article opened or judged; null for ``shown`` rows (and if the article was deleted since).
    article = models.ForeignKey(Article, null=True, blank=True, on_delete=models.SET_NULL, related_name="events")
    # For ``shown`` rows: the ids suggested, best first.
    article_ids = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # A double click, a retry or a second tab counts one deflection, not two.
            models.UniqueConstraint(
                fields=["inbox_id", "visitor_hash", "article", "query"],
                condition=models.Q(kind="answered"),
                name="kb_one_deflection_per_question",
            )
        ]
        indexes = [models.Index(fields=["inbox_id", "kind", "created_at"], name="kb_event_report")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} in inbox {self.inbox_id}"
