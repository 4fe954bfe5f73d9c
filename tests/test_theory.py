"""The activation table (the gradient chart's theory line: tests/test_theory_lines.py)."""

import pytest

from engine.theory import activation_table


def test_activation_table_is_complete_and_timed():
    rows = activation_table(n=20_000, repeats=2)
    by = {r.name: r for r in rows}
    assert by["relu"].relative_cost == 1.0
    assert by["sigmoid"].max_grad == pytest.approx(0.25)
    assert all(r.ns_per_element > 0 for r in rows)
