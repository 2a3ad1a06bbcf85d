"""Synthetic Flemish population and the four source extracts with ground truth.

``generate(persons, seed, outdir)`` writes ``ksz.csv``, ``vdab.csv``, ``integration.csv``,
``education.csv``, ``truth.csv``, ``persons.csv`` and ``summary.json``; see docs/synth.md.
"""

from linkage.synth.config import SourceNoise, SynthConfig, SynthConfigError, load_config
from linkage.synth.generator import MAX_PERSONS, SynthArgumentError, SynthSummary, generate
from linkage.synth.output import OutputDirError

__all__ = [
    "MAX_PERSONS", "OutputDirError", "SourceNoise", "SynthArgumentError", "SynthConfig",
    "SynthConfigError", "SynthSummary", "generate", "load_config",
]
