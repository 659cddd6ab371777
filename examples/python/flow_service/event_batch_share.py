"""How many bytes an event adds to its encoded EventBatch, for cutting batches to max_batch_bytes."""


def event_batch_share(event):
    """The event's bytes inside EventBatch: field 1's tag (1 byte), the length as a varint, the event."""
    size = event.ByteSize()
    return 1 + max(1, (size.bit_length() + 6) // 7) + size
