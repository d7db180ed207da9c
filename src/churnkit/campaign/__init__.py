"""Retention campaigns: plan a wave with a random holdout, hand each account manager a workbook,
read what they did back in, and measure the effect against the holdout.

- :func:`plan_wave` (``churnkit campaign plan``): :mod:`.plan`, :mod:`.holdout`, :mod:`.workbook`;
- :func:`import_workbooks` (``churnkit campaign import``): :mod:`.importer`;
- :func:`estimate` (the report's Retention section): :mod:`.effects`;
- the ``retention`` table of the data directory: :mod:`.table`.
"""

from churnkit.campaign.importer import import_workbooks
from churnkit.campaign.plan import plan_wave

__all__ = ["import_workbooks", "plan_wave"]
