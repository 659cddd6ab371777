"""The requests of one bidirectional stream, read on a thread of their own.

A gRPC Python handler gets its requests as a blocking iterator: while it waits for the next one it
cannot notice that the service was told to stop. The inbox reads them into a queue, so the handler
waits on one queue for either the next request or the end: the client closed the stream, or the
service drains. Requests that arrived before a drain are still handed out, so the handler answers
everything it received before it returns.
"""

import queue
import threading

import grpc

_ENDED = object()
_DRAIN = object()


class StreamInbox:
    def __init__(self, requests, lifecycle):
        self._queue = queue.Queue()
        self._lifecycle = lifecycle
        self.ended = False
        threading.Thread(target=self._read, args=(requests,), daemon=True).start()
        lifecycle.track(self)

    def _read(self, requests):
        try:
            for request in requests:
                self._queue.put(request)
        except grpc.RpcError:
            pass  # cancelled: the handler sees the end like any other
        finally:
            self._queue.put(_ENDED)

    def drain(self):
        """Called by the lifecycle on stop: what is queued is still handed out, then the end."""
        self._queue.put(_DRAIN)

    def next(self, block=True):
        """The next request; None at the end (then `ended` is True) or, with block=False, when none waits."""
        try:
            item = self._queue.get(block=block)
        except queue.Empty:
            return None
        if item is _ENDED or item is _DRAIN:
            self.ended = True
            self._queue.put(item)  # stays ended for every later call
            self._lifecycle.forget(self)
            return None
        return item

