"""contact_center.lib.gc_pauses: the collector tuning of ``manage.py serve`` and the timing of its pauses."""

from __future__ import annotations

import gc
import json

import pytest

from contact_center.lib import gc_pauses


@pytest.fixture
def restored_gc():
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def test_it_freezes_what_start_up_loaded_and_makes_full_collections_rare(restored_gc):
    gc_pauses.tune_for_serving()

    assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == (700, 10, 1000)


def test_it_times_each_collection_and_writes_them_for_a_reader(tmp_path):
    pauses = gc_pauses.GcPauses().install()
    try:
        gc.collect(0)
        gc.collect(2)
    finally:
        gc.callbacks.remove(pauses._callback)
    path = tmp_path / "gc.json"

    pauses.write(str(path))

    written = json.loads(path.read_text())
    assert written["collections"][0] >= 1 and written["collections"][2] >= 1
    assert written["max_cpu_s"] >= 0 and written["total_s"] >= written["max_s"] > 0
    assert all(len(pause) == 4 and pause[2] >= gc_pauses.KEEP_PAUSES_OVER_S for pause in written["pauses"])
    assert not (tmp_path / "gc.json.partial").exists()
