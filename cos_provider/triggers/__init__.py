"""Deferrable COS triggers (:mod:`.cos`), run in the triggerer's event loop on the async client."""
