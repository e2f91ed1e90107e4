from setuptools import setup

setup(
    name="legacy-lib",
    # ruleid: python/runtime-eol
    python_requires=">=3.7",
)
