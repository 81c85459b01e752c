"""Finding articles for a visitor's question: the interface, one real backend, and the lookups the widget needs.

The backend is ``settings.PARLEY_KB_SEARCH`` (a dotted path, resolved on first use), so the knowledge-base
issue can bring full-text search (PostgreSQL FTS, SQLite FTS5) without touching its callers. This module is
the kb's public face: other apps call ``suggest``, ``visible_article`` and ``article_urls`` and never read kb
models.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from urllib.parse import quote

from django.conf import settings
from django.db.models import Case, Exists, OuterRef, Q, QuerySet, Value, When
from django.utils.module_loading import import_string

from kb.models import Article, ArticleInbox

SNIPPET_CHARS = 160
MAX_TERMS = 8
MIN_TERM_CHARS = 3
TITLE_WEIGHT = 3  # a word of the question in an article's title says more than one in its body

# Words that say nothing about what the visitor needs, in the widget's languages. Short words (under
# MIN_TERM_CHARS) are dropped anyway, so only longer ones are listed.
STOP_WORDS = frozenset(
    """
    about after again also and any are can cannot could did does doing don't for from get had has have hello
    her here hers him his how into its just may mine more most much not now off once only other our out over
    please same she should some such than thank thanks that the their them then there these they this those
    through too under until very want was way were what when where which while who whom why will with would
    you your yours
    aber alle als also auch auf aus bei bin bis bitte das dass dem den der des die doch ein eine einem einen
    einer eines für hab habe haben hallo hat ich ihr ihre im ist kann kein keine können man mein meine mich
    mir mit nach nicht noch nur oder sie sind und uns unser vom von vor war warum was weil wenn wer wie wieder
    wir wird wo zu zum zur
    avec aux bonjour ces cette comme comment dans des elle est être leur les mais mes moi mon merci nous par
    pas peut peux pour pourquoi quand que quel quelle qui sans ses son sont sur svp une vos votre vous
    """.split()  # noqa: SIM905  (a word list reads better as prose than as 200 quoted strings)
)
_WORD = re.compile(r"[\w']+")


@dataclass(frozen=True)
class Suggestion:
    id: int
    title: str
    snippet: str

    def public(self) -> dict:
        return {"id": self.id, "title": self.title, "snippet": self.snippet}


class SearchBackend:
    """Contract of a search backend: ``suggest`` returns at most ``limit`` published articles offered in
    ``inbox_id``, best match first, and an empty list for a question with nothing to search for. It never
    raises on what a visitor typed."""

    def suggest(self, inbox_id: int, text: str, limit: int = 3) -> list[Suggestion]:
        raise NotImplementedError


class TermMatchSearch(SearchBackend):
    """Ranked term match through the ORM, the same on SQLite and PostgreSQL: each word of the question
    (stop words dropped) scores TITLE_WEIGHT when the title contains it and 1 when the body does.

    Substring matching gives a crude stemming ("size" finds "sizes") at the price of some noise, which
    the 3-character minimum keeps down. On SQLite, case folding covers ASCII letters only. Full-text
    search with real stemming comes with the knowledge-base issue, as another backend.
    """

    def suggest(self, inbox_id: int, text: str, limit: int = 3) -> list[Suggestion]:
        terms = search_terms(text)
        if not terms or limit <= 0:
            return []
        score = sum(
            (
                Case(When(title__icontains=term, then=Value(TITLE_WEIGHT)), default=Value(0))
                + Case(When(body__icontains=term, then=Value(1)), default=Value(0))
                for term in terms
            ),
            start=Value(0),
        )
        matches = Q()
        for term in terms:
            matches |= Q(title__icontains=term) | Q(body__icontains=term)
        articles = offered_in(inbox_id).filter(matches).annotate(score=score).order_by("-score", "title", "pk")[:limit]
        # When the title already shows why an article matched, its opening says best what it answers.
        return [
            Suggestion(id=a.pk, title=a.title, snippet=snippet(a.body, [] if _in(a.title, terms) else terms))
            for a in articles
        ]


def _in(text: str, terms: list[str]) -> bool:
    lowered = text.lower()
    return any(term in lowered for term in terms)


def search_terms(text: str) -> list[str]:
    """The words of ``text`` worth searching for: lower case, no stop words, no repeats, at most MAX_TERMS."""
    terms: list[str] = []
    for word in _WORD.findall(str(text).lower()):
        word = word.strip("'")
        if len(word) >= MIN_TERM_CHARS and word not in STOP_WORDS and word not in terms:
            terms.append(word)
    return terms[:MAX_TERMS]


def offered_in(inbox_id: int) -> QuerySet[Article]:
    """Published articles offered in the inbox: scoped to it, or to no inbox at all (which means every one)."""
    scoped = ArticleInbox.objects.filter(article=OuterRef("pk"))
    return Article.objects.filter(published=True).filter(~Exists(scoped) | Exists(scoped.filter(inbox_id=inbox_id)))


def visible_article(inbox_id: int, article_id: int) -> Article | None:
    """The article if a visitor of ``inbox_id`` may read it (published and offered there), else None."""
    return offered_in(inbox_id).filter(pk=article_id).first()


def snippet(body: str, terms: list[str]) -> str:
    """About SNIPPET_CHARS of ``body`` on one line, from the sentence holding the first term found, cut at a word."""
    flat = " ".join(body.split())
    if len(flat) <= SNIPPET_CHARS:
        return flat
    lowered = flat.lower()
    hits = [lowered.find(term) for term in terms if term in lowered]
    start = 0
    if hits:
        first = min(hits)
        # Back to the start of that sentence, unless it began long before the hit.
        dot = flat.rfind(". ", 0, first)
        sentence = dot + 2 if dot >= 0 else 0
        start = sentence if first - sentence < SNIPPET_CHARS // 2 else first
    text = flat[start:]
    if len(text) <= SNIPPET_CHARS:
        return ("…" if start else "") + text
    cut = text.rfind(" ", 0, SNIPPET_CHARS)
    return ("…" if start else "") + text[: cut if cut > 0 else SNIPPET_CHARS].rstrip(",;:") + "…"


@cache
def _backend(path: str) -> SearchBackend:
    return import_string(path)()


def backend() -> SearchBackend:
    """The configured backend (``settings.PARLEY_KB_SEARCH``), read when first needed, not at import."""
    return _backend(settings.PARLEY_KB_SEARCH)


def suggest(inbox_id: int, text: str, limit: int = 3) -> list[Suggestion]:
    """Up to ``limit`` articles for a visitor of ``inbox_id`` who is typing ``text``, best first."""
    return backend().suggest(inbox_id, text, limit)


def links_enabled() -> bool:
    """Whether articles have a public address agents can link (``settings.PARLEY_KB_ARTICLE_URL``)."""
    return bool(settings.PARLEY_KB_ARTICLE_URL)


def article_urls(article_ids: list[int]) -> dict[int, str]:
    """The public address of each article of ``article_ids`` (``PARLEY_KB_ARTICLE_URL`` with its
    ``{slug}`` and ``{id}`` filled in); empty, without a query, while no address is configured. Drafts
    have none: a link to them would not open for the customer."""
    template = settings.PARLEY_KB_ARTICLE_URL
    if not template or not article_ids:
        return {}
    found = Article.objects.filter(pk__in=article_ids, published=True).values_list("pk", "slug")
    return {pk: template.replace("{slug}", quote(slug, safe="")).replace("{id}", str(pk)) for pk, slug in found}
