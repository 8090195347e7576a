"""Prometheus metrics: request counts and latencies per endpoint (prometheus-flask-exporter),
and gauges read when scraped, which other parts register with one call.

The registration point for the outbox and the job queue::

    metrics.register_gauge(app, "socle_outbox_pending", "Messages waiting to be sent",
                           lambda: outbox.pending_count(db.session))

A gauge's function runs inside the ``/metrics`` request (an app context, the app's
session). Each process counts its own requests; with several gunicorn workers, set
``PROMETHEUS_MULTIPROC_DIR`` (an empty folder, emptied at each start) and every scrape adds
up the workers' counts.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from flask import Flask, Request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from prometheus_flask_exporter import PrometheusMetrics

_KEY = "socle_metrics"
# What is never counted: the probes themselves and the static files.
EXCLUDED_PATHS = ["^/metrics$", "^/healthz$", "^/static/"]


@dataclass(frozen=True)
class _Gauge:
    name: str
    documentation: str
    read: Callable[[], float]


class _Gauges(Collector):
    """The registered gauges, each read when scraped."""

    def __init__(self) -> None:
        self.gauges: dict[str, _Gauge] = {}

    def collect(self) -> Iterator[Metric]:
        for gauge in self.gauges.values():
            yield GaugeMetricFamily(gauge.name, gauge.documentation, value=float(gauge.read()))


@dataclass
class Metrics:
    registry: CollectorRegistry
    gauges: _Gauges
    exporter: PrometheusMetrics


def install(app: Flask) -> None:
    """Count every request (``flask_http_request_*``, by endpoint) in a registry of the app's
    own (several apps in one process, as in the tests, never share one)."""
    registry = CollectorRegistry(auto_describe=True)
    gauges = _Gauges()
    registry.register(gauges)
    exporter = PrometheusMetrics(
        app,
        path=None,  # served by web.metrics, which restricts who may read it
        registry=registry,
        group_by="endpoint",
        excluded_paths=EXCLUDED_PATHS,
    )
    app.extensions[_KEY] = Metrics(registry, gauges, exporter)


def register_gauge(app: Flask, name: str, documentation: str, read: Callable[[], float]) -> None:
    """Expose ``read()`` as the gauge ``name`` at every scrape."""
    app.extensions[_KEY].gauges.gauges[name] = _Gauge(name, documentation, read)


def exposition(app: Flask) -> tuple[bytes, str]:
    """The text a scrape reads, and its content type."""
    metrics: Metrics = app.extensions[_KEY]
    registry = metrics.registry
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Every worker writes its counts to the folder; one scrape reads them all.
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        registry.register(metrics.gauges)
    return generate_latest(registry), CONTENT_TYPE_LATEST


def may_read(request: Request, allowed_ips: tuple[str, ...], token: str | None) -> bool:
    """A scrape comes from an allowed address (loopback by default) or brings the token."""
    given = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return True
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(allowed, strict=False) for allowed in allowed_ips)
