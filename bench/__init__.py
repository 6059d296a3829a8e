"""Hallserver's benchmark suite: ``hallserver bench fanout|flood|idle|storm|smoke``.

Every run starts the servers it measures (Hallserver, a tutorial-style Channels relay and a bare
``websockets`` broadcast server), drives them from load-generator processes on loopback and
prints markdown tables. See bench/README.md.
"""
