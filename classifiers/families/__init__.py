"""Every classifier family, imported explicitly so readers and PyInstaller see the full list.

Each module registers its family with `@register_family`; none imports its framework at import time.
"""

from classifiers.families import deep_v1, deep_v2, embedding, shallow, transfer  # noqa: F401
