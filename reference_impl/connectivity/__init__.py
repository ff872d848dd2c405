"""Connectivity and HMI: telemetry, on-board logging and the application interface.

The spec does not define these components yet (version 0.1.0 covers the BMU safety core);
this package holds their place in the layering so that the tree shows the architecture.
"""
