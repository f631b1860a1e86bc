"""Hosts of the engine other than the local runtime (`dro_cli.runtime`): each drives `dro_cli.engine`
unchanged on another platform. Nothing here loads unless a command asks for that host."""
