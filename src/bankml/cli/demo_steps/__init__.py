"""The steps of `bankml demo`, one capability each; `bankml.cli.demo` runs them in order."""
