"""The migration ladder: one module per step, installed as ``asyncshift.codemods``."""
