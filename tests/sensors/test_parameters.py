"""Sensor parameters of the wrong type or out of range fail when the DAG is parsed, naming the field."""

from __future__ import annotations

from typing import Any

import pytest

from cos_provider.client.errors import CosValidationError
from cos_provider.sensors.cos import CosObjectSensor, CosObjectUpdatedSensor, CosPrefixInactivitySensor
from tests.conftest import SRC_BUCKET

PREFIX = {"task_id": "s", "bucket": SRC_BUCKET, "prefix": "p/"}
OBJECT = {"task_id": "s", "bucket": SRC_BUCKET, "key": "k"}


@pytest.mark.parametrize(
    ("cls", "params", "field", "rule"),
    [
        (
            CosPrefixInactivitySensor,
            {**PREFIX, "inactivity_period": "60"},
            "inactivity_period",
            "number of seconds",
        ),
        (
            CosPrefixInactivitySensor,
            {**PREFIX, "inactivity_period": 0},
            "inactivity_period",
            "greater than 0",
        ),
        (
            CosPrefixInactivitySensor,
            {**PREFIX, "inactivity_period": -5},
            "inactivity_period",
            "greater than 0",
        ),
        (CosPrefixInactivitySensor, {**PREFIX, "min_objects": 0}, "min_objects", "at least 1"),
        (CosPrefixInactivitySensor, {**PREFIX, "min_objects": "2"}, "min_objects", "whole number"),
        (CosPrefixInactivitySensor, {**PREFIX, "allow_delete": "no"}, "allow_delete", "True or False"),
        (CosObjectSensor, {**OBJECT, "min_size": -1}, "min_size", "at least 0"),
        (CosObjectSensor, {**OBJECT, "min_size": 1.5}, "min_size", "whole number"),
        (CosObjectSensor, {**OBJECT, "use_glob": "true"}, "use_glob", "True or False"),
        (CosObjectUpdatedSensor, {**OBJECT, "with_metadata": 1}, "with_metadata", "True or False"),
    ],
)
def test_bad_parameters_are_refused_naming_the_field(
    cls: Any, params: dict[str, Any], field: str, rule: str
) -> None:
    with pytest.raises(CosValidationError) as err:
        cls(**params)
    assert err.value.field == field
    assert rule in err.value.rule


def test_a_timedelta_period_is_seconds() -> None:
    from datetime import timedelta

    assert (
        CosPrefixInactivitySensor(**PREFIX, inactivity_period=timedelta(minutes=2)).inactivity_period == 120.0
    )


def test_an_impossible_glob_fails_before_the_first_listing(cos: Any, cos_connection: str) -> None:
    before = cos.counters()["requests"]
    op = CosObjectSensor(**{**OBJECT, "key": "data/[z-a].csv"}, use_glob=True, mode="poke")
    with pytest.raises(Exception, match=r"key: 'data/\[z-a\].csv' is not a valid glob"):
        op.poke({})
    assert cos.counters()["requests"] == before
