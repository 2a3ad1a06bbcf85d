"""Build configuration for the compiled parts (pyproject.toml holds everything else)."""

from setuptools import setup

setup()
