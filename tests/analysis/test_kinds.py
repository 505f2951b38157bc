"""The kind of an indicator (proportion or 0-100 score) from its values."""

from __future__ import annotations

import numpy as np
import pytest

from analysis import AnalysisError
from analysis.estimate import indicator_kind


def test_kind_from_values():
    assert indicator_kind(np.array([0, 1, 1, np.nan]), "x") == "proportion"
    assert indicator_kind(np.array([0.25, 0.5, 1.0]), "x") == "proportion"
    assert indicator_kind(np.array([85.0, 1.0, 60.5, 0.0, 100.0]), "x") == "mean"
    assert indicator_kind(np.array([0, 1, 2]), "x", "mean") == "mean"


def test_a_stray_value_in_a_0_1_column_is_an_error():
    """The old rule (every value in [0, 1]) made this column a 0-100 score."""
    y = np.array([1.0] * 20 + [2.0] + [0.0] * 5 + [np.nan])
    with pytest.raises(AnalysisError) as info:
        indicator_kind(y, "participated")
    message = str(info.value)
    assert "第 21 个值为 2" in message and "kinds={'participated': 'mean'}" in message
    with pytest.raises(AnalysisError, match="第 22 行为 2"):
        indicator_kind(y, "participated", first_line=2)
    with pytest.raises(AnalysisError, match="已声明为比例"):
        indicator_kind(np.array([0.0, 1.0, 1.5, 3.0, 4.0]), "share", "proportion")
