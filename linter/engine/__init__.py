"""The engine: read and parse a file once, run the rules on it, place and suppress findings, fix.

Also the rule API (``rule``), rule discovery (``registry``) and configuration (``config``).
"""
