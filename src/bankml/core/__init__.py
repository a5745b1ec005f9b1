"""Plain domain objects and rules: no I/O, no frameworks."""
