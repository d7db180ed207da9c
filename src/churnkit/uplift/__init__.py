"""Learning from retention outcomes: the uplift of contact, its metrics, and targeting by saved value.

- :class:`UpliftModel` (T- or DR-learner on LightGBM, known assignment probability): :mod:`.learner`;
- the Qini curve and top-decile uplift: :mod:`.metrics`.
"""

from churnkit.uplift.learner import UpliftModel, UpliftSettings
from churnkit.uplift.metrics import qini_coefficient, qini_curve, uplift_at

__all__ = ["UpliftModel", "UpliftSettings", "qini_coefficient", "qini_curve", "uplift_at"]
