"""Runtime diagnosis: the training probe, the training monitor, and the report on what training did.
"""
