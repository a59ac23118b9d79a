"""tracker-bridge: a disciplined workflow for operational defects on the tracker you already use.

The public Python API mirrors the CLI: build settings, build a tracker, call a workflow.

    >>> from tracker_bridge import Settings, observe
    >>> settings = Settings.load()
    >>> result = observe.run(settings.build_tracker(), settings, observe.Request(...))
"""

__version__ = "0.1.0"
