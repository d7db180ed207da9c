"""Learning from retention outcomes: the uplift of contact, its metrics, and targeting by saved value.

- :class:`UpliftModel` (DR- or T-learner on LightGBM, known assignment probability): :mod:`.learner`;
- the Qini curve and top-decile uplift: :mod:`.metrics`;
- the evidence that switches the list to saved value, and who is left alone: :mod:`.policy`;
- training from the ``retention`` table beside the risk model: :mod:`.training`;
- the model in the bundle (hashed files): :mod:`.store`;
- the scored file's ``churn_reduction``, ``saved_value``, ``ranked_by``: :mod:`.scoring`.

The risk model's treatment-aware training is :mod:`churnkit.model.treatment`.
"""

from churnkit.uplift.learner import UpliftModel, UpliftSettings
from churnkit.uplift.metrics import qini_coefficient, qini_curve, uplift_at

__all__ = ["UpliftModel", "UpliftSettings", "qini_coefficient", "qini_curve", "uplift_at"]
