"""What the COS sensors watch and how they judge it, once for every mode; no Airflow here.

A sensor poking in a worker and its trigger polling in the triggerer must
reach the same verdict from the same bucket state, fail the same way on the
same error and call ``check_fn`` the same way. So all of that lives below
Airflow, in plain modules that triggers, sensors and benchmarks share:

* :mod:`.drive` - plans (generators of COS calls) and the sync/async drivers;
* :mod:`.plans` - the three watches; :mod:`.steps` - requests they share;
* :mod:`.targets` - keys and ``cos://`` URLs to wait for;
* :mod:`.errors` - what a failed poke means (fail fast or not);
* :mod:`.timing` - the deferred wait and the clock; :mod:`.checkfn` - ``check_fn`` calls.
"""

from __future__ import annotations

from cos_provider.client.watch.checkfn import call_check_fn, validate_check_fn
from cos_provider.client.watch.drive import Batch, Outcome, Plan, Step, Watch, run_async, run_sync
from cos_provider.client.watch.errors import WatchError, classify, unusable_connection
from cos_provider.client.watch.plans import InactivityWatch, ObjectWatch, UpdatedWatch
from cos_provider.client.watch.restore import RestoreWatch
from cos_provider.client.watch.targets import Target, parse_target, parse_targets
from cos_provider.client.watch.timing import SYSTEM_CLOCK, Clock, Timing

__all__ = [
    "SYSTEM_CLOCK",
    "Batch",
    "Clock",
    "InactivityWatch",
    "ObjectWatch",
    "Outcome",
    "Plan",
    "RestoreWatch",
    "Step",
    "Target",
    "Timing",
    "UpdatedWatch",
    "Watch",
    "WatchError",
    "call_check_fn",
    "classify",
    "parse_target",
    "parse_targets",
    "run_async",
    "run_sync",
    "unusable_connection",
    "validate_check_fn",
]
