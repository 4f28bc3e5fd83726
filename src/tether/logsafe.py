"""Secret masking for logs: tokens in query strings, headers and URLs.

The public face of :mod:`tether.runtime.logsafe`, where the code lives.
"""

from __future__ import annotations

from tether.runtime.logsafe import (
    MASK,
    SECRET_PARAMS,
    SecretMaskingFilter,
    describe_scope,
    install_log_masking,
    mask_headers,
    mask_query,
    mask_text,
    mask_url,
    printable,
)

__all__ = [
    "MASK",
    "SECRET_PARAMS",
    "SecretMaskingFilter",
    "describe_scope",
    "install_log_masking",
    "mask_headers",
    "mask_query",
    "mask_text",
    "mask_url",
    "printable",
]
