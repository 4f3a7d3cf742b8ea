"""The ``kurator`` command: Typer commands that parse, call a service, and render with Rich."""
