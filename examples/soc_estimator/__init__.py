"""A state-of-charge estimator as a vendor writes one from the spec and the vendor guide
alone, with the script that turns a cycler's log into a test vector (docs/vendor-guide.md,
"From nothing to a certificate: a SoC estimator")."""
