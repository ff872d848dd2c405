"""The Gherkin suite's hooks: those of :mod:`conformance.gherkin.environment`.

    python -m behave features -D module=reference -D report=obsa-report
"""

from conformance.gherkin.environment import (  # noqa: F401 - behave looks them up here
    after_all,
    after_scenario,
    before_all,
    before_feature,
    before_scenario,
)
