"""Key-less attribute inference from Bloom-filter encodings: no key, no plaintext list.

The attacker projects the encodings on their principal components (a value such as a sex
code, a birth-year token or a group of name q-grams sets the same bits in every record that
has it, which shows as a direction of variance) and, without labels, splits the records by
k-means on the leading components. Scoring reads the truth: for each attribute the best
AUC over the leading components and the two k-means clusters, folded so that 0.5 means
nothing is learnt and 1.0 means the attribute is read off. Choosing the best component with
the truth makes it an upper bound on what an attacker without labels learns.
"""

from __future__ import annotations

import numpy as np
from scipy.cluster.vq import kmeans2
from scipy.stats import rankdata

COMPONENTS = 10


def auc(score: np.ndarray, label: np.ndarray) -> float:
    """Area under the ROC curve of ``score`` for a 0/1 ``label``, folded to [0.5, 1]."""
    positive = label.astype(bool)
    n_pos, n_neg = positive.sum(), (~positive).sum()
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(score)
    value = (ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
    return float(max(value, 1 - value))


def components(bits: np.ndarray, count: int = COMPONENTS) -> np.ndarray:
    """The records' scores on the leading principal components of their encodings."""
    centred = bits.astype(np.float32) - bits.mean(0, dtype=np.float32)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    return centred @ vt[:count].T


def infer(bits: np.ndarray, labels: dict[str, np.ndarray], seed: int = 0) -> dict[str, float]:
    """The best folded AUC per attribute: ``sex``, ``birth_year`` (born before the median
    year), ``origin`` (Moroccan against Belgian records only)."""
    scores = components(bits)
    _, cluster = kmeans2(scores[:, :3].astype(np.float64), 2, seed=seed, minit="++")
    targets = {
        "sex": (np.ones(len(bits), bool), labels["sex"]),
        "birth_year": (np.ones(len(bits), bool), labels["birth_year"] < np.median(labels["birth_year"])),
        "origin": (labels["origin"] >= 0, labels["origin"] == 1),
    }
    result = {}
    for name, (rows, label) in targets.items():
        candidates = [scores[rows, k] for k in range(scores.shape[1])] + [cluster[rows].astype(float)]
        result[name] = max(auc(score, label[rows]) for score in candidates)
    return result
