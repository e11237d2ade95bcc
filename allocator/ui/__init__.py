"""The Streamlit front end: shared helpers here, one script per page in ``pages/``.

Only this package and ``app.py`` import streamlit; every computation goes
through the public ``allocator`` API.
"""
