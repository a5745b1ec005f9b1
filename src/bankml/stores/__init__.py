"""Adapters: the only code that talks to databases, file systems and servers."""
