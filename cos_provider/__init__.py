"""Apache Airflow provider for Tencent Cloud Object Storage (COS).

Layers, from the bottom: ``client`` (the COS protocol, no Airflow import),
``hooks`` (Airflow connection to client), ``operators``/``sensors``/``triggers``
(thin task classes), and ``emulator`` (a local COS for tests and development).
"""

__version__ = "0.2.0"
