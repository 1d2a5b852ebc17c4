"""Shared fixtures live in tests/fixtures/, one module per concern."""

pytest_plugins = [
    "tests.fixtures.tiny_model",
    "tests.fixtures.fake_github",
]
