"""The HTTP API: routers by domain (``routes/``), one dependency module (``deps.py``), the
pages (``static/``), composed in ``app.py``.

    python -m hotline.api
"""
