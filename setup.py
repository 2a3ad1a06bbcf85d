"""Build configuration for the compiled parts (pyproject.toml holds everything else)."""

from setuptools import Extension, setup

# The Dice kernel picks its code path at run time (AVX-512 VPOPCNTDQ, POPCNT or portable),
# so the binary is built for the baseline architecture: no -march=native here.
DICE = Extension(
    "linkage.matching._dice",
    sources=["linkage/matching/_dice.c"],
    extra_compile_args=["-O3", "-std=gnu11", "-pthread"],
    extra_link_args=["-pthread"],
)

setup(ext_modules=[DICE])
