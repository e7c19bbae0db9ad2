"""A ``[logging] logging_config_class`` under which Airflow 3.3 accepts ``remote_base_log_folder = cos://…``.

Airflow 3.3's stock settings module (``airflow.config_templates.airflow_local_settings``)
raises "Incorrect remote log configuration" on import when ``remote_logging`` is
on and the folder's scheme is not one of the schemes it knows, and Airflow
imports that module on ``import airflow`` - so even ``airflow version`` fails.
This module is the way round it that keeps ``remote_logging = True``::

    [logging]
    remote_logging = True
    remote_base_log_folder = cos://<bucket>/<prefix>
    remote_log_conn_id = cos_default
    logging_config_class = cos_provider.log.logging_config.LOGGING_CONFIG

It builds the same dict as the stock module, from the same options, without
importing it, and exposes ``REMOTE_TASK_LOG`` / ``DEFAULT_REMOTE_CONN_ID``,
which Airflow reads from the module of ``logging_config_class`` first. Both
are ``None`` unless ``remote_logging`` is on with a ``cos://`` folder, so
turning the flag off turns remote logs off, and another provider's scheme
still reaches that provider's handler (through its provider info).
"""

from __future__ import annotations

import os
from typing import Any

from airflow.configuration import conf

from cos_provider.client.uri import is_cos_url

LOG_LEVEL: str = conf.get_mandatory_value("logging", "LOGGING_LEVEL").upper()
FAB_LOG_LEVEL: str = conf.get_mandatory_value("logging", "FAB_LOGGING_LEVEL").upper()
LOG_FORMAT: str = conf.get_mandatory_value("logging", "LOG_FORMAT")
DAG_PROCESSOR_LOG_FORMAT: str = conf.get_mandatory_value("logging", "DAG_PROCESSOR_LOG_FORMAT")
LOG_FORMATTER_CLASS: str = conf.get_mandatory_value(
    "logging", "LOG_FORMATTER_CLASS", fallback="airflow.utils.log.timezone_aware.TimezoneAware"
)
BASE_LOG_FOLDER: str = os.path.expanduser(conf.get_mandatory_value("logging", "BASE_LOG_FOLDER"))

# The stock DEFAULT_LOGGING_CONFIG of Airflow 3.3.2, option for option.
LOGGING_CONFIG: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "airflow": {"format": LOG_FORMAT, "class": LOG_FORMATTER_CLASS},
        "source_processor": {"format": DAG_PROCESSOR_LOG_FORMAT, "class": LOG_FORMATTER_CLASS},
    },
    "filters": {"mask_secrets_core": {"()": "airflow._shared.secrets_masker._secrets_masker"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "airflow",
            "stream": "sys.stdout",
            "filters": ["mask_secrets_core"],
        },
        "task": {
            "class": "airflow.utils.log.file_task_handler.FileTaskHandler",
            "formatter": "airflow",
            "base_log_folder": BASE_LOG_FOLDER,
            "filters": ["mask_secrets_core"],
        },
    },
    "loggers": {
        "airflow.task": {
            "handlers": ["task"],
            "level": LOG_LEVEL,
            "propagate": True,
            "filters": ["mask_secrets_core"],
        },
        "flask_appbuilder": {"handlers": ["console"], "level": FAB_LOG_LEVEL, "propagate": True},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL, "filters": ["mask_secrets_core"]},
}

_EXTRA_LOGGER_NAMES = conf.get("logging", "EXTRA_LOGGER_NAMES", fallback=None)
if _EXTRA_LOGGER_NAMES:
    LOGGING_CONFIG["loggers"].update(
        {
            name.strip(): {"handlers": ["console"], "level": LOG_LEVEL, "propagate": True}
            for name in _EXTRA_LOGGER_NAMES.split(",")
        }
    )

REMOTE_LOGGING: bool = conf.getboolean("logging", "remote_logging", fallback=False)
REMOTE_BASE_LOG_FOLDER: str = conf.get("logging", "remote_base_log_folder", fallback="") or ""

REMOTE_TASK_LOG: Any = None
DEFAULT_REMOTE_CONN_ID: str | None = None

if REMOTE_LOGGING and is_cos_url(REMOTE_BASE_LOG_FOLDER):
    from cos_provider.log.cos_task_handler import CosRemoteLogIO

    REMOTE_TASK_LOG = CosRemoteLogIO.from_config()
    DEFAULT_REMOTE_CONN_ID = REMOTE_TASK_LOG.conn_id
