"""Unit tests of the stream inbox (run: /usr/bin/python3 -m unittest discover -s examples/python -p 'test_*.py')."""

import threading
import unittest

from flow_service.lifecycle import Lifecycle
from flow_service.stream_inbox import StreamInbox


class Requests:
    """A request iterator the test feeds by hand, as gRPC hands a handler what arrives."""

    def __init__(self):
        self._items = []
        self._ready = threading.Condition()
        self._closed = False

    def send(self, item):
        with self._ready:
            self._items.append(item)
            self._ready.notify()

    def close(self):
        with self._ready:
            self._closed = True
            self._ready.notify()

    def __iter__(self):
        while True:
            with self._ready:
                while not self._items and not self._closed:
                    self._ready.wait()
                if not self._items:
                    return
                item = self._items.pop(0)
            yield item


class StreamInboxTest(unittest.TestCase):
    def test_a_request_arriving_just_after_a_drain_is_still_handed_out(self):
        lifecycle = Lifecycle()
        requests = Requests()
        inbox = StreamInbox(requests, lifecycle)
        requests.send("batch 300")
        self.assertEqual(inbox.next(), "batch 300")
        lifecycle.drain_all()
        # Sent by the client before the stop reached it: it arrives after the drain began.
        requests.send("batch 301")
        self.assertEqual(inbox.next(), "batch 301")
        self.assertIsNone(inbox.next())
        self.assertTrue(inbox.ended)
        requests.close()

    def test_a_draining_stream_tells_a_source_to_send_nothing_more(self):
        lifecycle = Lifecycle()
        inbox = StreamInbox(Requests(), lifecycle)
        self.assertFalse(inbox.draining)
        lifecycle.drain_all()
        self.assertIsNone(inbox.next(block=False))
        self.assertTrue(inbox.draining)

    def test_the_client_closing_ends_the_stream(self):
        requests = Requests()
        inbox = StreamInbox(requests, Lifecycle())
        requests.send("batch 1")
        requests.close()
        self.assertEqual(inbox.next(), "batch 1")
        self.assertIsNone(inbox.next())
        self.assertTrue(inbox.ended)


if __name__ == "__main__":
    unittest.main()
