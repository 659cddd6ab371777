"""A Flow processor in Python: upper-cases one string field of each event's JSON data.

    /usr/bin/python3 examples/python/uppercase_processor.py

Every input batch gets exactly one ProcessedBatch with its sequence, also when no event comes
out. Events are changed in place (their data, an extension attribute), never rebuilt, so fields
this code does not know (a newer Event) pass on untouched. An event whose data claims JSON but is
not, or whose field is not a string, comes back as a dead letter with the reason; the stream goes
on. Events whose data is not JSON pass unchanged. Stateless: a crash loses nothing, Core sends
the unanswered batches again to the restarted process.
"""

import json

from flow_service.component import ServiceBase
from flow_service.config_check import ConfigSchema
from flow_service.contracts import event_pb2, processor_pb2, processor_pb2_grpc
from flow_service.json_content_type import is_json
from flow_service.serve import serve

SCHEMA = ConfigSchema(
    {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "flow-python-uppercase-processor",
        "type": "object",
        "additionalProperties": False,
        "required": ["field"],
        "properties": {
            "field": {
                "type": "string",
                "minLength": 1,
                "description": "The top-level member of the JSON data to upper-case.",
            },
            "extension": {
                "type": "string",
                "pattern": "^[a-z0-9]{1,20}$",
                "description": "Set this CloudEvents extension attribute to true on each event changed.",
            },
        },
    }
)


class DeadLetter(Exception):
    pass


def uppercase(event, config):
    """Changes `event` in place; raises DeadLetter with the reason when it cannot."""
    if not event.data or not is_json(event.datacontenttype):
        return
    try:
        data = json.loads(event.data)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DeadLetter(f"data is not JSON though datacontenttype is {event.datacontenttype}: {error}") from None
    field = config["field"]
    if not isinstance(data, dict) or field not in data:
        return
    if not isinstance(data[field], str):
        raise DeadLetter(f"data.{field} is {type(data[field]).__name__}, expected a string")
    data[field] = data[field].upper()
    event.data = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    if config.get("extension"):
        event.extensions[config["extension"]].CopyFrom(event_pb2.AttributeValue(boolean_value=True))


class UppercaseProcessor(ServiceBase, processor_pb2_grpc.ProcessorServiceServicer):
    MESSAGES = processor_pb2
    INFO = {
        "name": "flow-python-uppercase-processor",
        "version": "0.1.0",
        "description": "Upper-cases one field of each event's JSON data (a Python example)",
        "config_schema": SCHEMA,
        "dead_letters": True,
    }

    def process(self, batch, config):
        answer = processor_pb2.ProcessedBatch(input_sequence=batch.sequence)
        for event in batch.batch.events:
            try:
                uppercase(event, config)
            except DeadLetter as letter:
                answer.dead_letters.add(event=event, reason=str(letter))
                continue
            answer.batch.events.append(event)
        return answer

    def Process(self, requests, context):
        inbox, _start, config = self.open_stream(requests, context)
        if inbox is None:
            return
        # Until Core closes the stream, or the service drains: every batch received is answered.
        while (request := inbox.next()) is not None:
            if request.WhichOneof("request") == "batch":
                yield processor_pb2.ProcessResponse(batch=self.process(request.batch, config))


if __name__ == "__main__":
    serve("processor", UppercaseProcessor)
