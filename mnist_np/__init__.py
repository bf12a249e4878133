"""mnist_np: a from-scratch NumPy neural network for MNIST that shows how it learns.

The engine imports NumPy only (and, for downloads, pooch): no Streamlit, no plotly.
"""

from .activations import ACTIVATIONS
from .init import INITS
from .losses import OUTPUT_LOSSES
from .network import MLP, ConfigError, ModelFileError
from .optimizers import OPTIMIZERS
from .presets import PRESETS
from .training import EpochRecord, StepRecord, TrainConfig, Trainer

__all__ = [
    "ACTIVATIONS", "INITS", "MLP", "OPTIMIZERS", "OUTPUT_LOSSES", "PRESETS", "ConfigError",
    "EpochRecord", "ModelFileError", "StepRecord", "TrainConfig", "Trainer",
]
