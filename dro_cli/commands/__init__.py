"""One module per `dro` command; each is imported only when that command runs."""
