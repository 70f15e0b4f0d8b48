"""The faces: the command line (cli), the HTTP API (api) and the Streamlit pages (pages, run by
``app.py``). They call into ``copilot``, ``knowledge`` and ``evals``; nothing calls into them."""
