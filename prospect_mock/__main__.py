"""``python -m prospect_mock``: the ``prospect-mock`` command."""

from prospect_mock.cli import main

main()
