"""Probes: one executor per check type, built lazily by a registry of factories (seed 001).

- :mod:`nyxmon.probes.base`: the :class:`~nyxmon.probes.base.Executor` protocol and the shared
  executor skeleton; executors return results for failures instead of raising.
- :mod:`nyxmon.probes.registry`: :class:`~nyxmon.probes.registry.ExecutorRegistry`,
  :func:`~nyxmon.probes.registry.default_registry` and
  :func:`~nyxmon.probes.registry.check_types` (each type's pydantic params spec).
- :mod:`nyxmon.probes.http`, :mod:`nyxmon.probes.json_http`, :mod:`nyxmon.probes.dns`: the
  built-in types ``http``, ``json`` and ``dns``.
- databases, brokers and more (alphabetical): :mod:`nyxmon.probes.amqp`,
  :mod:`nyxmon.probes.grpc`, :mod:`nyxmon.probes.mqtt`, :mod:`nyxmon.probes.mysql`,
  :mod:`nyxmon.probes.nats`, :mod:`nyxmon.probes.postgres`, :mod:`nyxmon.probes.redis`,
  :mod:`nyxmon.probes.websocket`; :mod:`nyxmon.probes.endpoint` is what the database and
  broker probes share (a fresh connection per run, passwords kept out of results).
- :mod:`nyxmon.probes.http_client`: the libcurl bridge the HTTP types share (a CurlMulti per
  event loop, pooled easy handles); :mod:`nyxmon.probes.http_exchange`: one run's request and
  redirects over it; :mod:`nyxmon.probes.http_failures`: how its failures are worded.
- :mod:`nyxmon.probes.runner`: :class:`~nyxmon.probes.runner.AsyncCheckRunner`, which runs a
  batch and hands each result over as soon as it exists.
"""
