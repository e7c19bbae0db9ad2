"""COS sensors (:mod:`.cos`); what they watch lives in :mod:`cos_provider.client.watch`."""
