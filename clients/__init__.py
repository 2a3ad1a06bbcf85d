"""The ``linkage`` command line for providers, statisticians, auditors and operators."""
