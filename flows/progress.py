"""A run's progress bar in the Prefect UI, kept up to date by a thread of its own."""

from __future__ import annotations

import contextvars
import threading

from prefect import get_run_logger
from prefect.artifacts import create_progress_artifact, update_progress_artifact


class ProgressArtifact:
    """The run's progress artifact, kept up to date by a thread of its own: the run never waits
    for the server to record a tick (the latest value is sent; values in between may be skipped)."""

    def __init__(self, key: str, description: str, units: int):
        self.key, self.description, self.units = key, description, max(1, units)
        self._done, self._sent, self._closed = 0, -1.0, False
        self._cond = threading.Condition()
        # the flow run's context, so the artifact belongs to this run
        ctx = contextvars.copy_context()
        self._thread = threading.Thread(target=ctx.run, args=(self._send,), daemon=True)
        self._thread.start()

    def set(self, done: int) -> None:
        with self._cond:
            self._done = done
            self._cond.notify()

    def __enter__(self) -> ProgressArtifact:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Send the last value and stop (at most a few seconds: progress is not worth more)."""
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join(timeout=5)

    def _value(self) -> float:
        return min(100.0, 100.0 * self._done / self.units)

    def _send(self) -> None:
        try:
            artifact_id = create_progress_artifact(
                progress=0.0, key=self.key, description=self.description
            )
            while True:
                with self._cond:
                    while self._value() == self._sent and not self._closed:
                        self._cond.wait()
                    value, closed = self._value(), self._closed
                if value != self._sent:
                    update_progress_artifact(artifact_id, progress=value)
                    self._sent = value
                if closed:
                    return
        except Exception as e:  # the run goes on without its progress bar
            get_run_logger().warning("progress artifact not updated: %s", e)
