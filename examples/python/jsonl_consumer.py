"""A Flow consumer in Python: appends events to a JSON Lines file, one CloudEvent per line.

    /usr/bin/python3 examples/python/jsonl_consumer.py

WRITTEN means on disk: each batch is one append, then os.fsync, and only then the ack (a new
file's folder is synced too, so the file itself survives a power cut). A failed append is cut
back to the length the file had, and answered as a retryable failure: a retry writes each event
once. A batch with an event whose data claims JSON but does not parse is refused whole as a
permanent failure (Core dead-letters it). A line torn by a crash (never acknowledged) is cut off
when the next stream opens. What a crash can duplicate: the batch fsynced but not yet
acknowledged, and whatever the source sends again after its last commit (at-least-once; keep the
last line per id, or use an idempotent sink such as @flow/consumer-sqlite, for exactly-once).
One writer per file.
"""

import base64
import datetime
import json
import os
import threading

import grpc

from flow_service.component import ServiceBase
from flow_service.config_check import ConfigSchema
from flow_service.contracts import consumer_pb2, consumer_pb2_grpc
from flow_service.json_content_type import is_json
from flow_service.serve import serve

SCHEMA = ConfigSchema(
    {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "flow-python-jsonl-consumer",
        "type": "object",
        "additionalProperties": False,
        "required": ["path"],
        "properties": {
            "path": {
                "type": "string",
                "minLength": 1,
                "description": "The file to append to (created if missing; its folder must exist).",
            },
        },
    }
)

EPOCH = datetime.datetime(1970, 1, 1)
CONTEXT_ATTRIBUTES = {"specversion", "id", "source", "type", "subject", "time", "datacontenttype", "dataschema"}
# Streams of this process that write the same file take turns.
FILE_LOCKS = {}
FILE_LOCKS_GUARD = threading.Lock()


class BadEvent(Exception):
    pass


def rfc3339(timestamp):
    moment = EPOCH + datetime.timedelta(seconds=timestamp.seconds)
    fraction = f".{timestamp.nanos:09d}".rstrip("0") if timestamp.nanos else ""
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + fraction + "Z"


def attribute_json(value):
    kind = value.WhichOneof("value")
    if kind == "binary_value":
        return base64.b64encode(value.binary_value).decode()
    if kind == "timestamp_value":
        return rfc3339(value.timestamp_value)
    return getattr(value, kind) if kind else None


def cloudevent_line(event):
    """The event in the CloudEvents JSON format on one line; JSON data embedded as it came."""
    head = {"specversion": event.specversion or "1.0", "id": event.id, "source": event.source, "type": event.type}
    for name in ("subject", "datacontenttype", "dataschema"):
        if getattr(event, name):
            head[name] = getattr(event, name)
    if event.HasField("time"):
        head["time"] = rfc3339(event.time)
    for name, value in event.extensions.items():
        if name not in CONTEXT_ATTRIBUTES and value.WhichOneof("value"):
            head[name] = attribute_json(value)
    if not event.data:
        return json.dumps(head, separators=(",", ":"), ensure_ascii=False) + "\n"
    if not is_json(event.datacontenttype):
        head["data_base64"] = base64.b64encode(event.data).decode()
        return json.dumps(head, separators=(",", ":"), ensure_ascii=False) + "\n"
    try:
        text = event.data.decode("utf-8")
        json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BadEvent(f"event {event.id}: data is not JSON though its datacontenttype says so ({error})") from None
    # Embedded as it is, not re-serialised (which would round big numbers); a raw line break in
    # valid JSON can only be whitespace between tokens, so a space keeps the value and the line.
    data = text.replace("\r", " ").replace("\n", " ")
    return json.dumps(head, separators=(",", ":"), ensure_ascii=False)[:-1] + f',"data":{data}}}\n'


def file_lock(path):
    with FILE_LOCKS_GUARD:
        return FILE_LOCKS.setdefault(os.path.realpath(path), threading.Lock())


class JsonLinesFile:
    """The file of one stream: opened for appending, its torn last line cut off, its folder synced."""

    def __init__(self, path):
        self.path = path
        created = not os.path.exists(path)
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        if created:
            folder = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
            try:
                os.fsync(folder)
            finally:
                os.close(folder)
        self._cut_torn_line()

    def _cut_torn_line(self):
        with open(self.path, "rb") as reader:
            size = reader.seek(0, os.SEEK_END)
            if size == 0:
                return
            reader.seek(size - 1)
            if reader.read(1) == b"\n":
                return
            # Back to the byte after the last newline: that line's batch was never acknowledged.
            end = size
            while end > 0:
                start = max(0, end - 65536)
                reader.seek(start)
                chunk = reader.read(end - start)
                newline = chunk.rfind(b"\n")
                if newline >= 0:
                    end = start + newline + 1
                    break
                end = start
        os.truncate(self.path, end)
        os.fsync(self._fd)

    def append(self, data):
        """Appends and fsyncs; on failure the file is cut back to what it was, and OSError raised."""
        before = os.fstat(self._fd).st_size
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view) :]
            os.fsync(self._fd)
        except OSError:
            try:
                os.ftruncate(self._fd, before)
            except OSError:
                pass
            raise

    def sync(self):
        os.fsync(self._fd)

    def close(self):
        os.close(self._fd)


def ack(sequence, status, reason=""):
    return consumer_pb2.WriteResponse(ack=consumer_pb2.BatchAck(sequence=sequence, status=status, reason=reason))


class JsonLinesConsumer(ServiceBase, consumer_pb2_grpc.ConsumerServiceServicer):
    MESSAGES = consumer_pb2
    INFO = {
        "name": "flow-python-jsonl-consumer",
        "version": "0.1.0",
        "description": "Appends events to a JSON Lines file, fsynced before each ack (a Python example)",
        "config_schema": SCHEMA,
    }

    def validate(self, config, validate_only):
        """Reaches the consumer's system, here the file system, without changing anything."""
        path = config["path"]
        folder = os.path.dirname(os.path.abspath(path))
        if os.path.isdir(path):
            return [("/path", f"{path} is a folder: name a file")]
        if not os.path.isdir(folder):
            return [("/path", f"folder {folder} does not exist: create it first")]
        if os.path.exists(path) and not os.access(path, os.W_OK):
            return [("/path", f"{path} is not writable")]
        if not os.path.exists(path) and not os.access(folder, os.W_OK):
            return [("/path", f"cannot create a file in {folder} (not writable)")]
        return []

    def write(self, file, batch):
        try:
            lines = "".join(cloudevent_line(event) for event in batch.batch.events).encode()
        except BadEvent as error:
            return ack(batch.sequence, consumer_pb2.ACK_STATUS_PERMANENT_FAILURE, str(error))
        try:
            with file_lock(file.path):
                file.append(lines)
        except OSError as error:
            reason = f"cannot append to {file.path}: {error.strerror} (nothing of the batch was kept; it is retried)"
            self.log.warning("append failed", extra={"fields": {"path": file.path, "error": str(error)}})
            return ack(batch.sequence, consumer_pb2.ACK_STATUS_RETRYABLE_FAILURE, reason)
        return ack(batch.sequence, consumer_pb2.ACK_STATUS_WRITTEN)

    def Write(self, requests, context):
        inbox, _start, config = self.open_stream(requests, context)
        if inbox is None:
            return
        try:
            with file_lock(config["path"]):
                file = JsonLinesFile(config["path"])
        except OSError as error:
            context.abort(grpc.StatusCode.UNAVAILABLE, f"cannot open {config['path']}: {error.strerror}")
        try:
            while (request := inbox.next()) is not None:
                kind = request.WhichOneof("request")
                if kind == "batch":
                    yield self.write(file, request.batch)
                elif kind == "flush":
                    # Every WRITTEN ack before it is already durable; a sync costs nothing more.
                    file.sync()
                    yield consumer_pb2.WriteResponse(flushed=consumer_pb2.Flushed(token=request.flush.token))
        finally:
            file.close()


if __name__ == "__main__":
    serve("consumer", JsonLinesConsumer)
