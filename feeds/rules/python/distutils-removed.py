# ruleid: python/distutils-removed
from distutils.core import setup
# ruleid: python/distutils-removed
from distutils.version import LooseVersion
# ruleid: python/distutils-removed
import distutils.util
# ok: python/distutils-removed
from setuptools import setup as st_setup
# ok: python/distutils-removed
from packaging.version import Version
# ok: python/distutils-removed
# from distutils.spawn import find_executable
# ok: python/distutils-removed
import distutils_extra_tools

try:
    # ruleid: python/distutils-removed
    from distutils.spawn import find_executable
except ImportError:
    find_executable = None

if LooseVersion("1.2") < Version("1.3"):
    st_setup(name="demo", version=distutils.util.strtobool("1") and "1.0")
