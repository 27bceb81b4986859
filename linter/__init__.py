"""klint: a linter for Keras training code.

The engine lives here (import package ``klint``); the rules live in
``klint.rules``, one rule per module.
"""

__version__ = "0.1.0"
