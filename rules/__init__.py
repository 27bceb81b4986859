"""klint's rules, one per module. Discovery walks this package (see klint.engine.registry)."""
