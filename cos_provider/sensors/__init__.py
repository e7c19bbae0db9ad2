"""COS sensors (:mod:`.cos`) on one shared base (:mod:`.base`); what they watch lives in :mod:`cos_provider.client.watch`."""
