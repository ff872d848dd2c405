"""The Gherkin suite's machinery: behave runs the scenarios of ``features/`` on the same
certification, harness and test cases as the pytest suite.

- :mod:`.steps` — what every step module shares: the step decorators (a module failure
  ends a step with the module's message), :func:`~.steps.run_case` (a scenario runs a test
  case of the suite by its key) and :func:`~.steps.verdict` (a step that shows a verdict).
- :mod:`.environment` — behave's hooks: one certification per run, one harness per
  scenario, each finished scenario handed to the certification's collector.
- :mod:`.runner` — runs behave on a certification that ``obsa certify`` already holds
  (``--suite gherkin`` or ``both``).

The feature files and their thin step modules live in ``features/`` (in the wheel:
``conformance/_data/features``, see :func:`conformance.paths.features_dir`).
"""
