"""A cell monitoring unit on the internal CAN bus as a vendor certifies one: its own node,
frames and end-to-end protection, written from the CAN catalog and the guides alone, over the
reference implementation's measurement function (docs/vendor-guide.md, "A cell monitor board
on the CAN bus")."""
