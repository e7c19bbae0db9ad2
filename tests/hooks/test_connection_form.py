"""The connection form that Airflow < 3.2 asks the hook for, made from ``CONN_FIELDS``.

The main venv runs Airflow 3.3 without wtforms, so these tests give the hook
stand-in ``wtforms`` modules the way Airflow 3.1's API server does when it
builds the form (it replaces the field classes and ``wtforms.validators``
with recorders). ``scripts/dev.py compat`` checks the real thing: the form
the API server of Airflow 3.0 serves for an installed wheel.
"""

from __future__ import annotations

import sys
import types
from typing import Any

import pytest

from cos_provider.get_provider_info import CONN_FIELDS, UI_FIELD_BEHAVIOUR
from cos_provider.hooks.cos import CosHook


class Field:
    def __init__(self, label: str, validators: list[Any], description: str, default: Any) -> None:
        self.label, self.validators, self.description, self.default = label, validators, description, default


class StringField(Field): ...


class PasswordField(Field): ...


class IntegerField(Field): ...


class BooleanField(Field): ...


class Optional:
    pass


class AnyOf:
    def __init__(self, values: list[str]) -> None:
        self.values = values


@pytest.fixture
def stand_in_wtforms(monkeypatch: pytest.MonkeyPatch) -> None:
    wtforms = types.ModuleType("wtforms")
    validators = types.ModuleType("wtforms.validators")
    for cls in (StringField, PasswordField, IntegerField, BooleanField):
        setattr(wtforms, cls.__name__, cls)
    validators.Optional = Optional  # type: ignore[attr-defined]
    validators.any_of = AnyOf  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "wtforms", wtforms)
    monkeypatch.setitem(sys.modules, "wtforms.validators", validators)
    monkeypatch.setitem(sys.modules, "flask_babel", None)  # labels stay plain strings without it


def test_airflow_finds_both_methods_on_the_class_provider_info_names():
    """Airflow < 3.2 looks in ``hook_class.__dict__``: a method inherited from a base is not asked."""
    assert "get_connection_form_widgets" in CosHook.__dict__
    assert "get_ui_field_behaviour" in CosHook.__dict__


@pytest.mark.usefixtures("stand_in_wtforms")
def test_every_conn_field_becomes_a_typed_form_field():
    widgets = CosHook.get_connection_form_widgets()
    assert list(widgets) == list(CONN_FIELDS)
    expected_class = {
        "region": StringField,
        "app_id": StringField,
        "session_token": PasswordField,
        "domain": StringField,
        "accelerate": BooleanField,
        "custom_domain": StringField,
        "connect_address": StringField,
        "scheme": StringField,
        "bucket": StringField,
        "connect_timeout": StringField,  # a number: no float field in Airflow's form, the hook parses it
        "read_timeout": StringField,
        "max_attempts": IntegerField,
        "verify": BooleanField,
        "sse_customer_key": PasswordField,
        "source_sse_customer_key": PasswordField,
    }
    assert {name: type(w) for name, w in widgets.items()} == expected_class
    for name, widget in widgets.items():
        spec = CONN_FIELDS[name]
        assert widget.label == spec["label"]
        assert widget.description == spec.get("description", "")
        assert widget.default == spec["schema"].get("default")
        assert isinstance(widget.validators[0], Optional)
        enums = [v.values for v in widget.validators if isinstance(v, AnyOf)]
        assert enums == ([spec["schema"]["enum"]] if "enum" in spec["schema"] else [])


def test_without_wtforms_no_fields_but_the_relabelling_stays(monkeypatch):
    monkeypatch.setitem(sys.modules, "wtforms", None)
    assert CosHook.get_connection_form_widgets() == {}
    assert CosHook.get_ui_field_behaviour()["relabeling"] == UI_FIELD_BEHAVIOUR["relabeling"]
