"""A small runtime for Flow services in Python, on Debian's python3-grpcio and python3-protobuf.

Each module does one of the things docs/any-language.md says a service must do: serve.py (listen,
handshake, stdin lifeline, SIGTERM drain), health.py (grpc.health.v1), reflection.py (server
reflection), config_check.py (Configure against the declared JSON Schema), stream_inbox.py (reading
a bidirectional stream while answering it). contracts.py gives the generated code.
"""
