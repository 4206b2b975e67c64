"""``python -m prospect_mock``: the ``prospect-mock`` command."""

from .cli import main

main()
