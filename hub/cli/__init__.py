"""The ``memberhub`` command, one module per command group."""
