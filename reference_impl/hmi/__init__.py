"""The HMI API over HTTP: a read-only Starlette service over the ``hmi_api`` component's
outputs, Server-Sent Events and a dashboard page (``obsa hmi reference``)."""

from .service import DEFAULT_HOST, Feed, create_app

__all__ = ["DEFAULT_HOST", "Feed", "create_app"]
