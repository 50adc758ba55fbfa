"""The ``orderbridge`` command: the configuration of a stack as a file (docs/configuration.md).

A tool of the people who run the stack, not part of the Lambda layer: it reads YAML (PyYAML) and
talks to the config API over HTTP (httpx).
"""
