"""Helpers the tests share: the tracker contract suite (``contract``), running the CLI in-process
(``cli``), prepared trackers (``trackers``) and real components (binaries, services;
``components``). Test modules import from here, never from each other; the fake servers live
beside this package in ``fakes``.
"""
