"""Sphinx configuration of the published standard.

Every page about the standard itself is generated from ``spec/`` at build time by the
extension :mod:`conformance.docs`; the hand-written pages are prose. Build with
``obsa docs build --out DIR`` (warnings are errors).
"""

from conformance.spec import load_spec
from conformance.spec.exporters import needs as obsa_needs

_spec = load_spec()

project = f"{_spec.standard.name} — {_spec.standard.title}"
author = f"the {_spec.standard.name} project"
copyright = f"{_spec.standard.name}"
version = _spec.version
release = f"{_spec.version} ({_spec.standard.status})"

extensions = [
    "myst_parser",
    "sphinx_needs",
    "sphinx.ext.graphviz",
    "conformance.docs",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "_generated", "Thumbs.db", ".DS_Store"]
root_doc = "index"
nitpicky = True
# the spec's text is published as written (no typographic quotes or dashes)
smartquotes = False

# Markdown (the vendor's guide): GitHub-style heading anchors, so that its in-page links
# resolve as they do on the forge
myst_heading_anchors = 4
myst_enable_extensions = ["colon_fence"]

# the requirements catalogue (sphinx-needs); the fields are the needs.json exporter's
needs_types = [
    {"directive": "req", "title": "Requirement", "prefix": "OBSA-", "color": "#BFD8D2",
     "style": "node"},
    {"directive": "spec", "title": "Interface", "prefix": "OBSA-IF-", "color": "#FEDCD2",
     "style": "node"},
    {"directive": "test", "title": "Test case", "prefix": "OBSA-TC-", "color": "#DCB239",
     "style": "node"},
    {"directive": "scen", "title": "Scenario", "prefix": "OBSA-SC-", "color": "#E5D4EF",
     "style": "node"},
]
needs_fields = {name: {"nullable": True} for name in obsa_needs.EXTRA_OPTIONS}
needs_id_regex = obsa_needs.ID_REGEX
needs_id_required = True
needs_build_json = True
needs_title_optional = False
# a need referenced inline shows its id; the pages print titles next to it where they help
needs_role_need_template = "{{ id }}"
needs_role_need_max_title_length = -1

graphviz_output_format = "svg"

html_theme = "alabaster"
html_title = f"{_spec.standard.name} {_spec.version}"
html_theme_options = {
    "page_width": "1320px",
    "sidebar_width": "260px",
    "body_max_width": "none",
    "fixed_sidebar": True,
    "description": _spec.standard.title,
}
html_sidebars = {"**": ["about.html", "navigation.html", "searchbox.html"]}
html_show_sourcelink = False
html_static_path = ["_static"]
html_css_files = ["obsa.css"]
