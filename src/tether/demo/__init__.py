"""The tether chat demo (``tether demo``): see :mod:`tether.demo.app` and docs/demo.md."""
