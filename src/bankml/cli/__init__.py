"""The `bankml` command line: thin commands over the platform's services."""
