"""What Describe answers and how Configure answers, the same for the three families."""

import os

import grpc
import yaml

from .contracts import component_pb2
from .stream_inbox import StreamInbox

FAMILIES = {
    "source": component_pb2.FAMILY_SOURCE,
    "processor": component_pb2.FAMILY_PROCESSOR,
    "consumer": component_pb2.FAMILY_CONSUMER,
}
LOCK = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "proto-pins.lock.yaml")


def vendored_contract(name, major):
    """The exact version of a contract as vendored (proto-pins.lock.yaml), as Describe reports it."""
    with open(LOCK, encoding="utf-8") as lock:
        for entry in (yaml.safe_load(lock) or {}).get("vendored", []):
            numbers = [int(part) for part in str(entry.get("version", "")).split(".")]
            if entry.get("name") == name and numbers[0] == major:
                return component_pb2.ContractVersion(name=name, major=major, minor=numbers[1], patch=numbers[2])
    raise LookupError(f"{LOCK} vendors no {name} v{major}: flow proto add examples/python {name}@^{major}")


def describe(info, family, max_message_bytes):
    """The ComponentDescriptor of a service, from its `info` dict and its server's receive limit."""
    return component_pb2.ComponentDescriptor(
        name=info["name"],
        version=info["version"],
        family=FAMILIES[family],
        contracts=[vendored_contract(f"{family}_service", 1)],
        accepted_event_types=info.get("accepted_event_types", []),
        produced_event_types=info.get("produced_event_types", []),
        config_schema=info["config_schema"].text,
        # max_message_bytes is what the gRPC server enforces, so Core never sends more.
        limits=component_pb2.Limits(max_message_bytes=max_message_bytes),
        features=component_pb2.Features(
            checkpointing=info.get("checkpointing", False),
            ordering=component_pb2.ORDERING_TOTAL,
            idempotent=info.get("idempotent", False),
            dead_letters=info.get("dead_letters", False),
        ),
        description=info.get("description", ""),
    )


def configure_response(response_type, issues):
    """A ConfigureResponse (of any family) for [(JSON Pointer, message)] issues, all errors."""
    return response_type(
        accepted=not issues,
        issues=[
            component_pb2.ConfigIssue(path=path, message=message, severity=component_pb2.SEVERITY_ERROR)
            for path, message in issues
        ],
    )


def issues_text(issues):
    return "; ".join(f"{path or '/'}: {message}" for path, message in issues)


class ServiceBase:
    """Describe and Configure, and the opening of a stream (its start message), for any family.

    A service class derives from this and from its family's generated servicer, and sets `INFO`
    (name, version, config_schema...). It overrides `validate` to reach its external system.
    """

    INFO = {}
    MESSAGES = None  # the family's generated message module, e.g. processor_pb2

    def __init__(self, component, lifecycle, log):
        self.component = component
        self.lifecycle = lifecycle
        self.log = log

    def validate(self, config, validate_only):
        """[(JSON Pointer, message)] beyond the schema; called only for a config the schema accepts."""
        return []

    def checked(self, config_json, validate_only):
        config, issues = self.INFO["config_schema"].check(config_json)
        if config is not None:
            issues = self.validate(config, validate_only)
        return (None if issues else config), issues

    def Describe(self, request, context):
        return self.MESSAGES.DescribeResponse(component=self.component)

    def Configure(self, request, context):
        _config, issues = self.checked(request.config_json, request.validate_only)
        return configure_response(self.MESSAGES.ConfigureResponse, issues)

    def open_stream(self, requests, context):
        """(inbox, start message, its config) of a new stream; (None, None, None) when it ended first.

        The config travels in the start message; an invalid one fails the stream with
        INVALID_ARGUMENT and the issues, as Core expects.
        """
        inbox = StreamInbox(requests, self.lifecycle)
        first = inbox.next()
        if first is None:
            return None, None, None
        if first.WhichOneof("request") != "start":
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "the first message of a stream must be start")
        start = first.start
        config, issues = self.checked(start.config_json, False)
        if config is None:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"invalid configuration: {issues_text(issues)}")
        return inbox, start, config
