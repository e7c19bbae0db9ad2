"""COS sensors (:mod:`.cos`) and the mode-independent logic they share with their triggers (:mod:`.watch`)."""
