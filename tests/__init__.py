"""The test suite (a package, so that pytest and mypy name its modules alike: tests.conftest)."""
