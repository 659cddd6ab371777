"""Logs as JSON lines on stderr, in the shape Core reads (pino's: numeric level, msg, fields).

stdout carries the handshake line and nothing else; Core copies a service's stderr lines into
its own log, keeping the level and fields of a JSON line.
"""

import json
import logging
import os
import sys
import time

PINO_LEVELS = {logging.DEBUG: 20, logging.INFO: 30, logging.WARNING: 40, logging.ERROR: 50, logging.CRITICAL: 60}


class _PinoFormatter(logging.Formatter):
    def format(self, record):
        line = {
            "level": PINO_LEVELS.get(record.levelno, 30),
            "time": int(time.time() * 1000),
            "name": record.name,
            "msg": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            line["err"] = self.formatException(record.exc_info)
        return json.dumps(line)


def service_logger(name):
    logger = logging.getLogger(name)
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(_PinoFormatter())
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG if os.environ.get("FLOW_LOG_LEVEL") == "debug" else logging.INFO)
        logger.propagate = False
    return logger
