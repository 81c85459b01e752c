"""actions.outbox: claiming deliveries under a lease, and recording what became of them."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from contact_center.actions.inbound import do_receive_inbound
from contact_center.actions.outbox import backoff_seconds, claim_due_deliveries, do_mark_failed, do_mark_sent
from contact_center.actions.replies import do_send_reply
from contact_center.models import Delivery, TimelineEntry
from tests.actions import THREAD_WAIT, concurrently
from tests.conftest import visitor_envelope

# A bound, not a timing claim: without SKIP LOCKED a second claimer would wait until this ran out.
OVERLAP_WAIT = 20


def reply(website, alice, visitor="vera", body="How can I help?") -> Delivery:
    """A reply of Alice's to ``visitor``, with its delivery due now."""
    entry = do_receive_inbound(visitor_envelope(website, visitor=visitor, external_id=f"{visitor}-m1")).entry
    return do_send_reply(alice, entry.conversation_id, body).delivery


def replies(website, alice, count: int) -> list[int]:
    return [reply(website, alice, visitor=f"visitor{n}").pk for n in range(count)]


def expire_lease(delivery_id: int) -> None:
    """What a worker that died mid-send leaves behind: a lease nobody will renew."""
    Delivery.objects.filter(pk=delivery_id).update(lease_expires_at=timezone.now() - timedelta(seconds=1))


def entry_updates(published) -> list[tuple[str, list[str]]]:
    return [
        (event["entry"]["delivery_status"], groups) for event, groups in published if event["type"] == "entry.updated"
    ]


# --- Claiming -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_leases_a_due_delivery_to_the_worker(website, alice):
    delivery = reply(website, alice)
    before = timezone.now()

    assert claim_due_deliveries("worker-1") == [delivery.pk]

    delivery.refresh_from_db()
    assert (delivery.state, delivery.leased_by, delivery.attempts) == (Delivery.State.SENDING, "worker-1", 1)
    lease = timedelta(seconds=settings.PARLEY_OUTBOX["lease_seconds"])
    assert before + lease <= delivery.lease_expires_at <= timezone.now() + lease


@pytest.mark.django_db
def test_it_leaves_a_delivery_that_is_not_due_yet(website, alice):
    delivery = reply(website, alice)
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() + timedelta(minutes=5))

    assert claim_due_deliveries("worker-1") == []
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (Delivery.State.PENDING, 0)


@pytest.mark.django_db
@pytest.mark.parametrize("state", [Delivery.State.SENT, Delivery.State.DEAD])
def test_it_leaves_a_finished_delivery(website, alice, state):
    delivery = reply(website, alice)
    Delivery.objects.filter(pk=delivery.pk).update(state=state)

    assert claim_due_deliveries("worker-1") == []


@pytest.mark.django_db
def test_it_claims_at_most_the_limit_oldest_first(website, alice):
    ids = replies(website, alice, 3)
    now = timezone.now()
    for age, delivery_id in enumerate(ids):
        Delivery.objects.filter(pk=delivery_id).update(next_attempt_at=now - timedelta(seconds=age))

    assert claim_due_deliveries("worker-1", limit=2) == [ids[2], ids[1]]
    assert claim_due_deliveries("worker-1", limit=2) == [ids[0]]


@pytest.mark.django_db
def test_it_does_not_claim_a_delivery_leased_to_a_live_worker(website, alice):
    delivery = reply(website, alice)
    claim_due_deliveries("worker-1")

    assert claim_due_deliveries("worker-2") == []
    delivery.refresh_from_db()
    assert (delivery.leased_by, delivery.attempts) == ("worker-1", 1)


@pytest.mark.django_db(transaction=True)
def test_it_never_gives_one_delivery_to_two_concurrent_workers(website, alice):
    ids = replies(website, alice, 12)

    claims = concurrently(lambda worker: claim_due_deliveries(worker, limit=5), ["w1", "w2", "w3", "w4"])

    claimed = [delivery_id for claim in claims for delivery_id in claim]
    assert sorted(claimed) == sorted(ids)
    for worker, claim in zip(["w1", "w2", "w3", "w4"], claims, strict=True):
        assert set(Delivery.objects.filter(leased_by=worker).values_list("pk", flat=True)) == set(claim)
    assert set(Delivery.objects.values_list("attempts", flat=True)) == {1}


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SKIP LOCKED: SQLite has one writer and serialises claims"
)
def test_it_lets_a_worker_claim_past_rows_another_worker_is_still_claiming(website, alice):
    ids = replies(website, alice, 4)
    first_claimed, second_done = threading.Event(), threading.Event()
    claims: dict[str, list[int]] = {}

    def slow_worker(_):
        # Holds the row locks of its claim in an open transaction, as a worker mid-claim does.
        with transaction.atomic():
            claims["slow"] = claim_due_deliveries("slow", limit=2)
            first_claimed.set()
            claims["overlapped"] = second_done.wait(OVERLAP_WAIT)

    def fast_worker(_):
        assert first_claimed.wait(THREAD_WAIT)
        claims["fast"] = claim_due_deliveries("fast", limit=10)
        second_done.set()

    concurrently(lambda role: {"slow": slow_worker, "fast": fast_worker}[role](role), ["slow", "fast"])

    # The fast worker skipped the locked rows instead of waiting for the slow worker's transaction.
    assert claims["overlapped"] is True
    assert sorted(claims["slow"] + claims["fast"]) == sorted(ids)
    assert not set(claims["slow"]) & set(claims["fast"])


# --- A worker that died -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_hands_the_delivery_of_a_dead_worker_to_another_once_the_lease_expires(website, alice):
    delivery = reply(website, alice)
    claim_due_deliveries("dead-worker")
    expire_lease(delivery.pk)

    assert claim_due_deliveries("worker-2") == [delivery.pk]

    delivery.refresh_from_db()
    assert (delivery.state, delivery.leased_by, delivery.attempts) == (Delivery.State.SENDING, "worker-2", 2)
    assert delivery.lease_expires_at > timezone.now()


@pytest.mark.django_db
def test_it_ignores_the_late_success_of_a_worker_that_lost_its_lease(website, alice, published):
    delivery = reply(website, alice)
    claim_due_deliveries("dead-worker")
    expire_lease(delivery.pk)
    claim_due_deliveries("worker-2")
    before = Delivery.objects.get(pk=delivery.pk)

    assert do_mark_sent(delivery.pk, "dead-worker", "provider-1") is False
    assert do_mark_failed(delivery.pk, "dead-worker", "timeout", permanent=True) is None

    after = Delivery.objects.get(pk=delivery.pk)
    assert (after.state, after.leased_by, after.lease_expires_at, after.provider_message_id, after.last_error) == (
        before.state,
        "worker-2",
        before.lease_expires_at,
        "",
        "",
    )
    assert TimelineEntry.objects.get(pk=delivery.entry_id).delivery_status == "queued"
    assert entry_updates(published) == []


@pytest.mark.django_db
def test_it_ignores_an_outcome_for_a_delivery_that_is_not_being_sent(website, alice):
    delivery = reply(website, alice)

    assert do_mark_sent(delivery.pk, "worker-1") is False
    assert Delivery.objects.get(pk=delivery.pk).state == Delivery.State.PENDING


# --- Outcomes -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_records_a_successful_send(website, alice, published, django_capture_on_commit_callbacks):
    delivery = reply(website, alice)
    claim_due_deliveries("worker-1")

    with django_capture_on_commit_callbacks(execute=True):
        assert do_mark_sent(delivery.pk, "worker-1", "provider-1") is True

    delivery.refresh_from_db()
    assert (delivery.state, delivery.provider_message_id, delivery.lease_expires_at) == ("sent", "provider-1", None)
    assert delivery.sent_at is not None
    assert TimelineEntry.objects.get(pk=delivery.entry_id).delivery_status == "sent"
    assert entry_updates(published) == [("sent", [f"inbox.{website.pk}"])]
    assert claim_due_deliveries("worker-1") == []


@pytest.mark.django_db
def test_it_retries_a_transient_failure_after_a_backoff(website, alice, published, django_capture_on_commit_callbacks):
    delivery = reply(website, alice)
    claim_due_deliveries("worker-1")
    before = timezone.now()

    with django_capture_on_commit_callbacks(execute=True):
        assert do_mark_failed(delivery.pk, "worker-1", "connection reset", permanent=False) == "pending"

    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_error) == ("pending", 1, "connection reset")
    assert delivery.lease_expires_at is None
    base = settings.PARLEY_OUTBOX["backoff_base_seconds"]
    assert before + timedelta(seconds=base) <= delivery.next_attempt_at <= timezone.now() + timedelta(seconds=2 * base)
    assert TimelineEntry.objects.get(pk=delivery.entry_id).delivery_status == "queued"
    assert entry_updates(published) == []
    assert claim_due_deliveries("worker-1") == []


@pytest.mark.django_db
def test_it_gives_up_at_once_on_a_permanent_failure(website, alice, published, django_capture_on_commit_callbacks):
    delivery = reply(website, alice)
    claim_due_deliveries("worker-1")

    with django_capture_on_commit_callbacks(execute=True):
        assert do_mark_failed(delivery.pk, "worker-1", "no such recipient", permanent=True) == "dead"

    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_error) == ("dead", 1, "no such recipient")
    assert TimelineEntry.objects.get(pk=delivery.entry_id).delivery_status == "failed"
    assert entry_updates(published) == [("failed", [f"inbox.{website.pk}"])]


@pytest.mark.django_db
def test_it_gives_up_after_the_last_attempt(website, alice, published, django_capture_on_commit_callbacks):
    delivery = reply(website, alice)
    assert delivery.max_attempts == 3

    states = []
    for _ in range(3):
        Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        assert claim_due_deliveries("worker-1") == [delivery.pk]
        with django_capture_on_commit_callbacks(execute=True):
            states.append(do_mark_failed(delivery.pk, "worker-1", "timeout", permanent=False))

    assert states == ["pending", "pending", "dead"]
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == ("dead", 3)
    assert TimelineEntry.objects.get(pk=delivery.entry_id).delivery_status == "failed"
    assert entry_updates(published) == [("failed", [f"inbox.{website.pk}"])]
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    assert claim_due_deliveries("worker-1") == []


@pytest.mark.django_db
def test_it_keeps_a_long_error_message_bounded(website, alice):
    delivery = reply(website, alice)
    claim_due_deliveries("worker-1")

    do_mark_failed(delivery.pk, "worker-1", "x" * 5000, permanent=False)

    assert len(Delivery.objects.get(pk=delivery.pk).last_error) == 2000


# --- Backoff ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("attempts", range(1, 9))
def test_it_backs_off_within_base_and_the_capped_exponential(attempts):
    base = settings.PARLEY_OUTBOX["backoff_base_seconds"]
    cap = settings.PARLEY_OUTBOX["backoff_cap_seconds"]

    delays = [backoff_seconds(attempts) for _ in range(200)]

    assert all(base <= delay <= min(cap, base * 2**attempts) for delay in delays)
    # Jitter: a burst of failures does not retry in lockstep.
    assert len(set(delays)) > 1


def test_it_backs_off_longer_as_attempts_grow():
    base = settings.PARLEY_OUTBOX["backoff_base_seconds"]

    # The bound of attempt n is base * 2**n (2, 4, 8 ... with the test settings' base of 2): a later
    # attempt reaches past the bound of an earlier one (200 draws make missing it vanishingly rare).
    assert max(backoff_seconds(4) for _ in range(200)) > base * 2**2
    assert max(backoff_seconds(5) for _ in range(200)) > base * 2**3


def test_it_never_backs_off_beyond_the_cap():
    cap = settings.PARLEY_OUTBOX["backoff_cap_seconds"]

    assert max(backoff_seconds(30) for _ in range(200)) <= cap
