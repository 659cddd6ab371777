"""The open streams of a service, so a stop (SIGTERM, or stdin closing) can drain each of them."""

import threading


class Lifecycle:
    def __init__(self):
        self._lock = threading.Lock()
        self._inboxes = set()
        self.stopping = False
        # Set on stop, for waits that are not on a stream (a source pacing its events).
        self.stopped = threading.Event()

    def track(self, inbox):
        with self._lock:
            self._inboxes.add(inbox)
            late = self.stopping
        if late:
            inbox.drain()

    def forget(self, inbox):
        with self._lock:
            self._inboxes.discard(inbox)

    def drain_all(self):
        with self._lock:
            self.stopping = True
            inboxes = list(self._inboxes)
        self.stopped.set()
        for inbox in inboxes:
            inbox.drain()
