"""The pages of tonecheck: a self-contained HTML review report and a local web page.

- :mod:`tonecheck.pages.scored` reads a file written by ``tonecheck score`` back into rows;
- :mod:`tonecheck.pages.review` turns those rows into one HTML file (``tonecheck report``,
  ``tonecheck score --html``);
- :mod:`tonecheck.pages.server` is the web app of ``tonecheck serve`` (needs the ``serve``
  extra: FastAPI and uvicorn), with the API's contract in :mod:`tonecheck.pages.api` and its
  middleware in :mod:`tonecheck.pages.guard`;
- :mod:`tonecheck.pages.commands` holds the command-line glue.

Importing this package imports nothing heavy: FastAPI only loads with ``server`` (and its
``api`` and ``guard``).
"""
