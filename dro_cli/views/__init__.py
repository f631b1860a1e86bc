"""Views of plans: text for people, mermaid for documents; JSON is the plan itself."""
