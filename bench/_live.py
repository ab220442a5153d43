"""Start IsoFind (or a bare FastAPI app) in a uvicorn subprocess on loopback, for benchmarks."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx2


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def live_server(app_factory: str, env: dict[str, str]) -> Iterator[str]:
    """Serve ``module:factory`` with uvicorn in a child process; yields the base URL."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        app_factory,
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.pathsep.join(filter(None, [here, os.environ.get("PYTHONPATH")]))
    process = subprocess.Popen(command, env={**os.environ, "PYTHONPATH": path, **env})
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                httpx2.get(url + "/api/ready", timeout=1)
                break
            except httpx2.TransportError:
                time.sleep(0.05)
        else:
            raise RuntimeError(f"{app_factory} did not start on {url}")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def rate(call: Callable[[], object], seconds: float = 3.0) -> tuple[float, float]:
    """Sequential calls for ``seconds``: (requests per second, median latency in ms)."""
    latencies = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        start = time.perf_counter()
        call()
        latencies.append(time.perf_counter() - start)
    latencies.sort()
    return len(latencies) / sum(latencies), 1000 * latencies[len(latencies) // 2]
