"""Task logs in COS: the ``RemoteLogIO`` of Airflow 3 and a ready ``logging_config_class``.

See :mod:`.cos_task_handler` for the IO class and :mod:`.logging_config` for
the configuration Airflow 3.3 needs before it accepts a ``cos://`` folder.
"""
