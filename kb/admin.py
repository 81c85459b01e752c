"""Articles in Django admin until the knowledge-base issue brings its own authoring pages."""

from __future__ import annotations

from django.contrib import admin

from kb.models import Article, ArticleInbox, SuggestionEvent


class ArticleInboxInline(admin.TabularInline):
    model = ArticleInbox
    extra = 0
    verbose_name = "offered in widget inbox (id)"
    verbose_name_plural = "offered in widget inboxes (none: every inbox)"


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ["title", "published", "updated_at"]
    list_filter = ["published"]
    search_fields = ["title", "body"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [ArticleInboxInline]


@admin.register(SuggestionEvent)
class SuggestionEventAdmin(admin.ModelAdmin):
    """Read-only: these rows are what visitors did, the record of deflections."""

    list_display = ["created_at", "kind", "inbox_id", "article", "query"]
    list_filter = ["kind", "inbox_id"]
    search_fields = ["query"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
