"""Incidents from alerts: Prometheus Alertmanager and Grafana webhooks.

``payload`` reads a notification, ``rules`` decides what it means (severity, route, title),
``service`` stores it and then declares an incident or adds to the open one, ``notices``
tells the war room without flooding it, and ``http`` is the endpoint in front of them.
"""
