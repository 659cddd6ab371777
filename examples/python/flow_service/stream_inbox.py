"""The requests of one bidirectional stream, read on a thread of their own.

A gRPC Python handler gets its requests as a blocking iterator: while it waits for the next one it
cannot notice that the service was told to stop. The inbox reads them into a queue, so the handler
waits on one queue for either the next request or the end: the client closed the stream, or the
service drains. Requests that arrived before a drain, or arrive just after it (sent before the stop
reached the client), are still handed out, so the handler answers everything it was sent before it
returns.
"""

import queue
import threading

import grpc

_ENDED = object()
_DRAIN = object()


# After a drain starts, how long a stream waits for a request still on its way (one the client sent
# before the stop reached it) before it ends: such a request is answered too, not dropped.
DRAIN_QUIET_SECONDS = 0.25


class StreamInbox:
    def __init__(self, requests, lifecycle):
        self._queue = queue.Queue()
        self._lifecycle = lifecycle
        self._draining = False
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
        """Called by the lifecycle on stop: what is queued, or arrives within DRAIN_QUIET_SECONDS, is still handed out, then the end."""
        self._queue.put(_DRAIN)

    def next(self, block=True):
        """The next request; None at the end (then `ended` is True) or, with block=False, when none waits."""
        while not self.ended:
            waiting_out_drain = self._draining and block
            try:
                item = self._queue.get(block=block, timeout=DRAIN_QUIET_SECONDS if waiting_out_drain else None)
            except queue.Empty:
                if waiting_out_drain:
                    self._end()
                return None
            if item is _DRAIN:
                self._draining = True
            elif item is _ENDED:
                self._end()
            else:
                return item
        return None

    @property
    def draining(self):
        """The service is stopping: a source sends nothing more (a processor or consumer still answers)."""
        return self._draining or self.ended

    def _end(self):
        self.ended = True
        self._lifecycle.forget(self)
