"""A Flow source in Python: the events 1, 2, 3... of a counter, with checkpoints.

    /usr/bin/python3 examples/python/counter_source.py

Each event has the id <idPrefix><n> and the JSON data {"n": n, "text": "event <n>"}. The
checkpoint after a batch is the last n it holds, so a read that resumes from it goes on at n + 1:
no gap, and the same ids again only for what was sent after the last commit (at-least-once; an
idempotent sink keyed by id keeps each once). The counter has no upstream to acknowledge, so a
commit notice is only logged; a source with a broker or a database would let it forget the events
up to that checkpoint there, never earlier.
"""

import json
import struct
import time

import grpc

from flow_service.component import ServiceBase
from flow_service.config_check import ConfigSchema
from flow_service.contracts import checkpoint_pb2, event_pb2, source_pb2, source_pb2_grpc
from flow_service.event_batch_share import event_batch_share
from flow_service.serve import serve

# The batch size when Core leaves it to the source (max_batch_size 0).
DEFAULT_BATCH_SIZE = 100

SCHEMA = ConfigSchema(
    {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "flow-python-counter-source",
        "type": "object",
        "additionalProperties": False,
        "required": ["count"],
        "properties": {
            "count": {
                "type": "integer",
                "minimum": 0,
                "description": "How many events: 1..count, then the source is exhausted; 0 counts for ever.",
            },
            "idPrefix": {
                "type": "string",
                "default": "counter-",
                "description": "Each event's id is <idPrefix><n>.",
            },
            "type": {"type": "string", "minLength": 1, "default": "com.example.counter"},
            "source": {"type": "string", "minLength": 1, "default": "urn:flow:example:python-counter"},
            "ratePerSecond": {
                "type": "number",
                "minimum": 1,
                "description": "At most this many events per second (default: as fast as credits allow).",
            },
        },
    }
)


class CheckpointError(Exception):
    pass


def position_after(checkpoint):
    """The last n a checkpoint covers: 0 for none; 8 bytes, big-endian, as this source writes them."""
    if checkpoint is None or not checkpoint.position:
        return 0
    if len(checkpoint.position) != 8:
        raise CheckpointError(
            f"checkpoint {checkpoint.position.hex()} was not made by this source (expected 8 bytes)"
        )
    return struct.unpack(">Q", checkpoint.position)[0]


def checkpoint_after(n):
    return checkpoint_pb2.Checkpoint(position=struct.pack(">Q", n), description=f"after event {n}")


class Pace:
    """Spaces events to `ratePerSecond`; a stop ends the wait at once."""

    def __init__(self, rate, lifecycle):
        self._interval = 1 / rate if rate else 0
        self._lifecycle = lifecycle
        self._next = time.monotonic()

    def wait(self):
        """False when the service is stopping."""
        if self._interval:
            delay = self._next - time.monotonic()
            if delay > 0 and self._lifecycle.stopped.wait(delay):
                return False
            self._next = max(self._next, time.monotonic() - 1) + self._interval
        return not self._lifecycle.stopping


class CounterSource(ServiceBase, source_pb2_grpc.SourceServiceServicer):
    MESSAGES = source_pb2
    INFO = {
        "name": "flow-python-counter-source",
        "version": "0.1.0",
        "description": "Counts 1, 2, 3... as events, with checkpoints (a Python example)",
        "config_schema": SCHEMA,
        "produced_event_types": [],
        "checkpointing": True,
    }

    def event(self, config, n):
        now = time.time_ns()
        return event_pb2.Event(
            id=f"{config['idPrefix']}{n}",
            source=config["source"],
            specversion="1.0",
            type=config["type"],
            time=event_pb2.Timestamp(seconds=now // 1_000_000_000, nanos=now % 1_000_000_000),
            datacontenttype="application/json",
            data=json.dumps({"n": n, "text": f"event {n}"}).encode(),
        )

    def Read(self, requests, context):
        inbox, start, config = self.open_stream(requests, context)
        if inbox is None:
            return
        try:
            last = position_after(start.checkpoint if start.HasField("checkpoint") else None)
        except CheckpointError as error:
            # No restart can help: Core stops the run with this message.
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, str(error))
        count = config["count"]
        credits = start.initial_credits
        max_size = start.max_batch_size or DEFAULT_BATCH_SIZE
        max_bytes = start.max_batch_bytes
        pace = Pace(config.get("ratePerSecond"), self.lifecycle)
        sequence = 0
        self.log.info("reading", extra={"fields": {"stage": start.stage_id, "after": last}})

        while True:
            # Take in what Core sent: wait for it only when there is no credit left.
            request = inbox.next(block=credits == 0)
            while request is not None:
                kind = request.WhichOneof("request")
                if kind == "credit":
                    credits += request.credit.batches
                elif kind == "commit":
                    self.log.debug("committed", extra={"fields": {"sequence": request.commit.sequence}})
                request = inbox.next(block=False)
            if inbox.draining:
                return  # Core closed the stream, or the service drains: no further batch
            if credits == 0:
                continue
            if count and last >= count:
                yield source_pb2.ReadResponse(exhausted=source_pb2.Exhausted(last_sequence=sequence))
                # Keep the stream open until Core closes it, so the last commits still arrive.
                while inbox.next() is not None:
                    pass
                return
            events, size = [], 0
            while len(events) < max_size and not (count and last + len(events) >= count):
                event = self.event(config, last + len(events) + 1)
                share = event_batch_share(event)
                if events and max_bytes and size + share > max_bytes:
                    break
                if not pace.wait():
                    return  # stopping: this batch was never sent, so its events come again after a restart
                events.append(event)
                size += share
            last += len(events)
            sequence += 1
            credits -= 1
            yield source_pb2.ReadResponse(
                batch=source_pb2.SourceBatch(
                    sequence=sequence,
                    batch=event_pb2.EventBatch(events=events),
                    checkpoint=checkpoint_after(last),
                )
            )


if __name__ == "__main__":
    serve("source", CounterSource)
