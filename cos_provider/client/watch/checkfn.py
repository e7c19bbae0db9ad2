"""How ``check_fn`` is called: one signature inspection for every mode.

Poke mode calls ``check_fn`` in ``poke()``; deferrable mode calls it in
``execute_complete()`` after the trigger fired. Both go through
:func:`call_check_fn`, so a ``check_fn`` that takes ``ti`` gets it in both,
and one that takes ``**context`` gets the whole context in both.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any


def check_fn_kwargs(check_fn: Callable[..., Any], context: Mapping[str, Any]) -> dict[str, Any]:
    """The keyword arguments ``check_fn`` gets besides the objects.

    ``check_fn(objects)`` gets none; ``check_fn(objects, **context)`` gets the
    whole task context; ``check_fn(objects, ti, params)`` gets just the named
    context entries (names the context lacks keep their defaults).
    """
    params = list(inspect.signature(check_fn).parameters.values())
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return dict(context)
    named = [
        p.name
        for p in params[1:]
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    ]
    return {name: context[name] for name in named if name in context}


def validate_check_fn(check_fn: Callable[..., Any] | None) -> None:
    """Fail at DAG parse time, not at the first poke, if ``check_fn`` cannot take the objects."""
    if check_fn is None:
        return
    if not callable(check_fn):
        raise TypeError(f"check_fn must be callable, got {check_fn!r}")
    try:
        params = inspect.signature(check_fn).parameters.values()
    except (TypeError, ValueError):  # some builtins have no signature
        return
    positional = (
        inspect.Parameter.POSITIONAL_ONLY,
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
        inspect.Parameter.VAR_POSITIONAL,
    )
    if not any(p.kind in positional for p in params):
        raise TypeError(
            "check_fn must accept the matched objects as its first positional argument: "
            "check_fn(objects) or check_fn(objects, **context)"
        )


def call_check_fn(check_fn: Callable[..., Any], objects: Any, context: Mapping[str, Any]) -> bool:
    return bool(check_fn(objects, **check_fn_kwargs(check_fn, context)))


__all__ = ["call_check_fn", "check_fn_kwargs", "validate_check_fn"]
