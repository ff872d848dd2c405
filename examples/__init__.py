"""Third-party-style modules that show how a vendor delivers an OBSA component.

They are not part of the standard: each one is certified by the conformance suite exactly as
a vendor's module would be (``obsa certify examples/<module>/manifest.yaml``).
"""
