"""PuLP mixed-integer formulations of the allocation model (MODEL.md).

This package imports numpy, pandas and pulp only, never ``allocator``: it sees
the world as the arrays of :class:`models.data.ModelData`.
"""

from models.data import CLASSES, FAMILIES, POLLUTANTS, SWITCHABLE, ModelData, ModelParams

__all__ = ["CLASSES", "FAMILIES", "POLLUTANTS", "SWITCHABLE", "ModelData", "ModelParams"]
