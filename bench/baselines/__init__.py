"""Servers Hallserver is compared against: a tutorial-style Channels relay and the bare
``websockets`` floor. Both speak only what the load generator needs (see bench/README.md)."""
