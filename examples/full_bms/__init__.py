"""A whole BMS as a vendor certifies one: its own passive balancing, written from the spec
and the vendor guide alone, with every other component borrowed from the reference
implementation (docs/vendor-guide.md, "A whole BMS: one run, four profiles")."""
