"""The command line (``klint check``, ``rule``, ``rules``, ``probe``, ``report``) and the output formats.

- :mod:`klint.cli.main`: the argument parser and the subcommands ``rule``, ``rules``, ``probe``, ``report``.
- :mod:`klint.cli.check`: ``klint check``: configuration, standard input, fixing and writing, warnings.
- :mod:`klint.cli.files`: the files to check under the paths given, each read with care and checked.
- :mod:`klint.cli.workers`: the worker processes that check the files, and their time and memory limits.
- :mod:`klint.cli.formats`: the output formats; :mod:`klint.cli.rule_docs`: the rules' documentation.

Exit codes follow ruff (see :mod:`klint.cli.main`).
"""

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
