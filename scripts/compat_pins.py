"""The Airflow versions ``scripts/dev.py compat`` installs the wheel into, and what each needs.

This is the one place that says what an old Airflow needs next to it in
order to run at all. Airflow's constraint files (which would pin these) cannot
be fetched here, and a plain ``pip install apache-airflow==3.0.6`` today
resolves to libraries released long after it. Every requirement below has
the reason it is there; each was found by running the smoke DAG without it.

``dev.py compat`` runs the lowest and the newest target; ``--all`` adds the
minor versions between them. The lowest target is the floor pyproject.toml
declares for apache-airflow (compat_check.py fails if the two differ), on
the oldest Python we declare: 3.0.6, the last 3.0 patch (3.0.0's DAG has no
``test()``, so older patches cannot run the smoke DAG and are not claimed).
The newest is the newest Airflow on the newest Python that it supports. ``pythons`` is an order of
preference: the first one present on the machine is used, and the table says
which.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Target:
    name: str
    airflow: str
    pythons: tuple[str, ...]
    requirements: dict[str, str] = field(default_factory=dict)
    """Requirement -> why it is needed, installed together with the wheel and ``apache-airflow==airflow``."""
    always: bool = True
    """False: run only with ``dev.py compat --all`` (the versions between the lowest and the newest)."""


TARGETS = (
    Target(
        name="lowest",
        airflow="3.0.6",
        pythons=("3.10", "3.11", "3.12"),
        requirements={
            "fastapi<0.130": (
                "Airflow 3.0's in-process execution API rejects the task-start call (PATCH "
                "/task-instances/{id}/run -> 422 'Input should be a valid dictionary') with fastapi "
                "0.134 and later, so no task can run; 0.129.2 works. 3.1+ run with today's fastapi."
            ),
            "apache-airflow-providers-common-compat==1.13.1": (
                "the floor pyproject.toml declares (the first release whose sdk shims have every name "
                "cos_provider imports): the lowest target tests the floor, not the newest release"
            ),
            "wtforms": (
                "not needed to run: Airflow 3.0 builds provider connection forms only when wtforms is "
                "installed (the FAB provider brings it), and the 'connection form' check needs one"
            ),
        },
    ),
    Target(name="3.1", airflow="3.1.8", pythons=("3.11", "3.12", "3.10"), always=False),
    Target(
        name="3.2",
        airflow="3.2.2",
        pythons=("3.12", "3.11", "3.10"),
        always=False,
        requirements={
            "fastapi<0.137": (
                "Airflow 3.2's execution API models fail to build with fastapi 0.137+ (pydantic: "
                "'TITerminalStatePayload needs a discriminator field'); 3.3 declares this cap itself"
            ),
            "svcs<26": (
                "with svcs 26 Airflow 3.2's in-process execution API has no registry ('State' object "
                "has no attribute 'svcs_registry'), so no task can start; 25.1.0 works"
            ),
        },
    ),
    Target(name="newest", airflow="3.3.2", pythons=("3.13", "3.12", "3.11")),
)
