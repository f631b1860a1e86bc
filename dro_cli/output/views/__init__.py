"""Views: plans, journals, status, queues and diffs rendered as text, HTML, mermaid and dot.

Each takes data (a plan, a status document, journal records, a diff) and returns
text; none reads files but its own templates, and none runs anything.
"""
