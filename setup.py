"""The compiled part of crossling: quality-signal counting (crossling/_signals.c).

Metadata lives in pyproject.toml. The extension is optional: without a C compiler the install
still succeeds and crossling.clean counts in Python (slower, same numbers).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "crossling._signals",
            ["crossling/_signals.c"],
            extra_compile_args=["-O2"],
            optional=True,
        )
    ]
)
