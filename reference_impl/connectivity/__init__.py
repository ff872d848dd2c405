"""Connectivity and HMI: on-board lifetime data and the application interface.

- :mod:`.data_logger` — the lifetime data of EU Regulation 2023/1542 Annex VII part B;
- :mod:`.hmi_api` — the read-only application interface of user interfaces and service
  tools.
"""
