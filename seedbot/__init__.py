"""seedbot: gate fine-tuning pull requests on seed variance."""

__version__ = "0.1.0"
