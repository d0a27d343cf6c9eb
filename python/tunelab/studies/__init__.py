"""The chapter's experiments, each composed from the primitives of the area modules.

One module per study (SCIENCE.md sections 3-9):

* ``accumulation`` -- gradient accumulation vs one large batch, against the closed-form
  steady state (:func:`accumulation_study`);
* ``batch_scaling`` -- the best batch size per dataset size and its power law
  (:func:`batch_scaling_study`);
* ``patience`` -- epochs spent vs regret over Keras ``EarlyStopping`` settings
  (:func:`patience_tradeoff`);
* ``weight_decay`` -- Adam (L2) vs AdamW on a two-layer network (:func:`weight_decay_study`,
  :class:`TwoLayerNet`);
* ``clipping`` -- the learning rate and the clipping threshold tuned jointly
  (:func:`clipping_study`);
* ``transfer`` -- how well a tuned learning rate transfers across tasks (:func:`transfer_study`).

Every name here is also importable from ``tunelab``.
"""

from __future__ import annotations

from .accumulation import AccumulationStudyResult, accumulation_study
from .batch_scaling import BatchScalingStudy, batch_scaling_study
from .clipping import ClippingStudyResult, clipping_study
from .patience import PatienceTradeoff, patience_tradeoff
from .transfer import TransferStudy, transfer_study
from .weight_decay import TwoLayerNet, WeightDecayStudyResult, weight_decay_study

# In the order of the chapter (SCIENCE.md sections 3-9).
__all__ = [
    "accumulation_study",
    "AccumulationStudyResult",
    "batch_scaling_study",
    "BatchScalingStudy",
    "patience_tradeoff",
    "PatienceTradeoff",
    "TwoLayerNet",
    "weight_decay_study",
    "WeightDecayStudyResult",
    "clipping_study",
    "ClippingStudyResult",
    "transfer_study",
    "TransferStudy",
]
