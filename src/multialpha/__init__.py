"""multialpha: a multi-alpha futures trading daemon and the research that feeds it."""

__version__ = "0.1.0"
