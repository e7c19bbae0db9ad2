"""The ``cos://`` asset URI scheme: handler, factory and OpenLineage converter."""
