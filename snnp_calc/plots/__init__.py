"""Figures: parity plots of a fit (:mod:`.parity`) and a model's parts (:mod:`.filters`).

Built on :mod:`.figure` (matplotlib outside pyplot, written atomically).
"""
