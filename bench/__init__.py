"""The benchmark of prospect-mock: ``make bench``, or ``python -m bench --help`` from the
repository's root (see bench/__main__.py)."""
