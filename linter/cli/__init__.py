"""The command line (``klint check``, ``rule``, ``rules``, ``probe``, ``report``) and the output formats.
"""
