"""Connectivity and HMI: on-board lifetime data and the application interface.

- :mod:`.data_logger` — the lifetime data of EU Regulation 2023/1542 Annex VII part B;
- :mod:`.hmi_api` — the read-only application interface of user interfaces and service
  tools;
- :mod:`.telemetry` — the telemetry block: a record every period, buffered while the link is
  down, the buffer journaled in the non-volatile store (:mod:`.backlog_journal`) so that it
  survives a power loss; :mod:`.disk_telemetry` — the same with its buffer in SQLite;
- :mod:`.mqtt_gateway` — the telemetry on a real network: MQTT (paho-mqtt, QoS 1) with the
  crash-safe SQLite buffer of :mod:`.disk_buffer`, in the spec's wire format
  (``obsa_telemetry_wire.json``, generated).
"""
