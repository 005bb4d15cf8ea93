"""`python -m orchestrator` = the `orchestrator` command."""

from orchestrator.cli.main import main

main()
