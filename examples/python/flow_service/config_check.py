"""Checks a stage's config against the JSON Schema (draft 2020-12) the service declares in Describe.

Configure must refuse what the declared schema refuses, each issue with a JSON Pointer (Core and
`flow conform` check this). A Python service with PyPI would use jsonschema's
Draft202012Validator; these examples use only what Debian's python3-grpcio and python3-protobuf
bring, so this checks the small part of JSON Schema their schemas use, and refuses at start-up a
schema that uses any other keyword, so a keyword is never ignored without a word.
"""

import json
import math
import re

ANNOTATIONS = {"$schema", "$id", "$comment", "title", "description", "default", "examples"}
ASSERTIONS = {
    "type",
    "properties",
    "required",
    "additionalProperties",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "pattern",
    "enum",
}

JSON_TYPES = {
    "object": lambda value: isinstance(value, dict),
    "array": lambda value: isinstance(value, list),
    "string": lambda value: isinstance(value, str),
    "boolean": lambda value: isinstance(value, bool),
    "null": lambda value: value is None,
    "number": lambda value: isinstance(value, (int, float)) and not isinstance(value, bool),
    # JSON Schema counts 1.0 as an integer.
    "integer": lambda value: (isinstance(value, int) and not isinstance(value, bool))
    or (isinstance(value, float) and math.isfinite(value) and value.is_integer()),
}


def _pointer(path, name):
    return f"{path}/{str(name).replace('~', '~0').replace('/', '~1')}"


def _type_name(value):
    for name in ("null", "boolean", "integer", "number", "string", "array", "object"):
        if JSON_TYPES[name](value):
            return name
    return type(value).__name__


def _refuse_unknown_keywords(schema, where):
    unknown = sorted(set(schema) - ANNOTATIONS - ASSERTIONS)
    if unknown:
        raise ValueError(f"config schema {where or '/'}: keyword(s) {', '.join(unknown)} not supported by config_check.py")
    for name, child in schema.get("properties", {}).items():
        _refuse_unknown_keywords(child, _pointer(f"{where}/properties", name))


class ConfigSchema:
    """A service's config schema: its JSON text for Describe, and the check for Configure."""

    def __init__(self, schema):
        _refuse_unknown_keywords(schema, "")
        self.schema = schema
        self.text = json.dumps(schema)

    def check(self, config_json):
        """(config with the schema's top-level defaults filled in, or None; [(JSON Pointer, message)])."""
        try:
            config = json.loads(config_json or "{}")
        except json.JSONDecodeError as error:
            return None, [("", f"not JSON: {error.msg} at line {error.lineno} column {error.colno}")]
        issues = list(self._issues(self.schema, config, ""))
        if issues:
            return None, issues
        defaults = {
            name: child["default"] for name, child in self.schema.get("properties", {}).items() if "default" in child
        }
        return {**defaults, **config}, []

    def _issues(self, schema, value, path):
        expected = schema.get("type")
        if expected is not None:
            allowed = expected if isinstance(expected, list) else [expected]
            if not any(JSON_TYPES[name](value) for name in allowed):
                yield path, f"must be {' or '.join(allowed)}, found {_type_name(value)}"
                return
        if "enum" in schema and value not in schema["enum"]:
            yield path, f"must be one of {', '.join(json.dumps(option) for option in schema['enum'])}"
        if JSON_TYPES["number"](value):
            if "minimum" in schema and value < schema["minimum"]:
                yield path, f"must be at least {schema['minimum']}, found {value}"
            if "maximum" in schema and value > schema["maximum"]:
                yield path, f"must be at most {schema['maximum']}, found {value}"
        if isinstance(value, str):
            if "minLength" in schema and len(value) < schema["minLength"]:
                yield path, f"must have at least {schema['minLength']} character(s)"
            if "maxLength" in schema and len(value) > schema["maxLength"]:
                yield path, f"must have at most {schema['maxLength']} character(s)"
            if "pattern" in schema and not re.search(schema["pattern"], value):
                yield path, f"must match the pattern {schema['pattern']}"
        if isinstance(value, dict):
            properties = schema.get("properties", {})
            for name in schema.get("required", []):
                if name not in value:
                    yield _pointer(path, name), "is required"
            for name, member in value.items():
                if name in properties:
                    yield from self._issues(properties[name], member, _pointer(path, name))
                elif schema.get("additionalProperties") is False:
                    known = ", ".join(sorted(properties)) or "none"
                    yield _pointer(path, name), f"is not a known setting (known: {known})"
