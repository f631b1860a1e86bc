"""Views: plans, journals, status, queues and diffs rendered as text, HTML, mermaid and dot."""
