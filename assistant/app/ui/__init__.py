"""The Gradio chat UI: layout, handlers, rendering, the figures table."""
