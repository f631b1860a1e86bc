def open_account(ctx):
    return None
