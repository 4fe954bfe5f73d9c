"""The names each text field of a config takes, and how the app shows them.

Each tuple is the one list of a field's values (the activations' is the registry in
:mod:`engine.activations`); :mod:`engine.config.fields` puts them in the field table.
"""

from __future__ import annotations

from engine.codes import BnCode, LossCode, OptCode, names

__all__ = [
    "BATCH_NORM",
    "BN_NAMES",
    "BUNDLED",
    "CELLS",
    "DATASETS",
    "DATASET_NAMES",
    "DTYPES",
    "FILE_SOURCES",
    "INITIALIZERS",
    "INIT_NAMES",
    "LOSSES",
    "LOSS_NAMES",
    "MAX_SEED",
    "OPTIMIZERS",
    "SCALINGS",
    "SCALING_HELP",
    "SCALING_NAMES",
    "SYNTHETIC",
    "TASKS",
]

INITIALIZERS = (
    "xavier_normal",
    "xavier_uniform",
    "he_normal",
    "he_uniform",
    "lecun_normal",
    "fan_in_normal",
    "normal",
    "uniform",
    "orthogonal",
    "zeros",
)
LOSSES = names(LossCode)  # ("softmax_ce", "sigmoid_bce", "mse"): the kernels' codes in order
OPTIMIZERS = names(OptCode)
BATCH_NORM = names(BnCode)
DTYPES = ("float64", "float32")
#: recurrent.cell: "none" is the MLP; the others run engine.recurrent
CELLS = ("none", "rnn", "lstm", "gru")
#: recurrent.task: the synthetic sequence tasks (engine.recurrent.tasks)
TASKS = ("adding", "memory")
SCALINGS = ("auto", "unit", "standardize", "minmax", "raw")
#: TensorFlow-Playground-like 2-D sets generated from a seed
SYNTHETIC = ("spiral", "circles", "xor", "moons", "blobs", "surface")
#: real sets shipped with the app
BUNDLED = ("digits", "breast_cancer")
#: sources read from a user's file
FILE_SOURCES = ("mnist", "csv")
DATASETS = SYNTHETIC + BUNDLED + FILE_SOURCES
#: what each scaling does, as the app's scaling control shows it
SCALING_NAMES = {  # short enough for a combo box at 1280x720; controls show the help
    "auto": "auto",
    "unit": "unit (÷ max)",
    "standardize": "standardize",
    "minmax": "min-max [0, 1]",
    "raw": "raw",
}
SCALING_HELP = {
    "auto": "unit for MNIST, standardize for the others",
    "unit": "pixels / their maximum (MNIST / 255, digits / 16)",
    "standardize": "z-score with the training set's mean and std",
    "minmax": "the training set's range mapped to [0, 1]",
    "raw": "values as stored (MNIST 0-255)",
}
DATASET_NAMES = {
    "digits": "digits: 8\u00d78 handwritten (bundled)",
    "breast_cancer": "breast cancer (bundled)",
    "spiral": "spiral (2-D)",
    "circles": "circles (2-D)",
    "xor": "xor (2-D)",
    "moons": "moons (2-D)",
    "blobs": "blobs (2-D)",
    "surface": "surface (2-D regression)",
    "mnist": "MNIST (your files)",
    "csv": "CSV file\u2026",
}
LOSS_NAMES = {
    "softmax_ce": "softmax + cross-entropy",
    "sigmoid_bce": "sigmoid + binary CE",
    "mse": "linear + mean squared error",
}
BN_NAMES = {"none": "off", "pre": "before the activation", "post": "after the activation"}
INIT_NAMES = {
    "xavier_normal": "Xavier (Glorot) normal",
    "xavier_uniform": "Xavier uniform",
    "he_normal": "He (Kaiming) normal",
    "he_uniform": "He uniform",
    "lecun_normal": "LeCun normal",
    "fan_in_normal": "N(0, σw²/fan_in) (mean field)",
    "normal": "normal(0, scale)",
    "uniform": "uniform(-scale, scale)",
    "orthogonal": "orthogonal (gain √σw²)",
    "zeros": "zeros (never breaks symmetry)",
}
#: largest seed a control offers (a 32-bit signed integer)
MAX_SEED = 2**31 - 1
