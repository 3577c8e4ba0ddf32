"""quantproof verifier: toolchain, build, audit, executable kernels, checks and evidence."""

__version__ = "0.1.0"
