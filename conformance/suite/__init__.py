"""The conformance suite: pytest test cases per component, linked to requirement IDs by the
``requirement`` marker, and the scenario steps they share with the Gherkin suite."""

from pathlib import Path

SUITE_DIR = Path(__file__).resolve().parent
