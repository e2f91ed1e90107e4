# ruleid: python/pkg-resources-deprecated
import pkg_resources
# ruleid: python/pkg-resources-deprecated
from pkg_resources import get_distribution, DistributionNotFound
# ruleid: python/pkg-resources-deprecated
__import__("pkg_resources").declare_namespace(__name__)
# ok: python/pkg-resources-deprecated
from importlib.metadata import version, PackageNotFoundError
# ok: python/pkg-resources-deprecated
from importlib import resources
# ok: python/pkg-resources-deprecated
# import pkg_resources

try:
    __version__ = version("mypackage")
except PackageNotFoundError:
    __version__ = get_distribution("mypackage").version
