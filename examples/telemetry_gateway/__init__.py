"""A telemetry gateway as a vendor certifies one: its own HTTP service of the HMI API,
written from the spec and the vendor guide alone, over the reference implementation's
network link, telemetry and HMI API block (docs/vendor-guide.md, "A telemetry gateway: the
HMI API over HTTP")."""
