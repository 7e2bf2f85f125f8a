"""Jiuzhu: Zhejiang low-income assistance rules as decision tables, compiled to DuckDB SQL."""

import logging

logger = logging.getLogger("jiuzhu")
logger.addHandler(logging.NullHandler())

__version__ = "0.1.0"
