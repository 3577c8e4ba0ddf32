"""The tile planner (REQ-TILE v2): its property checks catch a planner that forgets double buffering or
charges one scale group for a chunk that straddles two, and its figures for LLaMA-70B are what the
dataflow gives. (The same faults against Lean's planner: tests/test_checks.py.)"""

from __future__ import annotations

import pytest

from verifier import planner
from verifier.checks import mutants
from verifier.checks.catalog import PROPERTIES
from verifier.checks.properties import run_property


def _run(name: str):
    return run_property(next(p for p in PROPERTIES if p.name == name))


def test_a_planner_that_forgets_double_buffering_is_caught(monkeypatch):
    monkeypatch.setattr(planner, "fixed_bytes", mutants.single_buffered)
    result = _run("planner_within_budget")
    assert not result.passed and ("bytes" in result.counterexample or "max_reserve" in result.counterexample)


def test_a_planner_that_charges_one_group_for_a_straddling_chunk_is_caught(monkeypatch):
    monkeypatch.setattr(planner, "groups_touched", mutants.one_group_per_chunk)
    result = _run("planner_scale_groups")
    assert not result.passed and "groups_touched" in (result.counterexample or "")


def test_straddling_chunk_counts_both_groups():
    assert planner.groups_touched(320, 80) == 2 and planner.groups_touched(256, 128) == 1
    assert planner.tile_bytes(1, 320, 80, 1) > planner.tile_bytes(1, 256, 80, 1)


def test_llama_layers_fit_with_slack_and_decode_is_near_the_traffic_bound():
    budget, reserve = 225_280, planner.check_reserve(None)
    for _, k, n in planner.LLAMA_70B_LAYERS:
        for m in (1, 2048):
            shape = planner.plan_shape(m, k, n)
            used = planner.tile_bytes(shape.rows, 0, shape.reds, shape.cols)
            assert used <= budget - reserve and shape.reds == 256 and shape.cols <= 320
            r = planner.roofline(m, k, n)
            assert r.lower_bound_bytes <= r.bytes_moved
            if m == 1:
                assert r.traffic_ratio < 1.01  # decode streams every weight once


def test_a_reserve_out_of_range_is_refused():
    with pytest.raises(ValueError, match="reserve must be"):
        planner.plan_shape(4, 4, 4, planner.max_reserve() + 1)
