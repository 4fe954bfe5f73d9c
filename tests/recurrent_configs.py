"""The tiny recurrent config the recurrent tests start from (one place, not one per file)."""

from __future__ import annotations

from engine.config import ExperimentConfig, updated


def tiny_recurrent(name: str, **more) -> ExperimentConfig:
    """A tanh RNN that trains in milliseconds: 8 units, 80 sequences of the adding problem,
    Adam lr 0.01, batches of 8; ``more`` sets the rest (seq_len, steps, ...)."""
    return updated(
        ExperimentConfig(name=name),
        **{
            "recurrent.cell": "rnn",
            "model.loss": "mse",
            "model.depth": 1,
            "model.width": 8,
            "model.init": "xavier_uniform",
            "data.n_samples": 80,
            "training.batch_size": 8,
            "training.optimizer": "adam",
            "training.learning_rate": 0.01,
            **more,
        },
    )
