# ruleid: python/distutils-removed
from distutils.core import setup

setup(name="legacy", version="0.1")
