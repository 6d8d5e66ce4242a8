"""Errors of the bot layer that are not tied to one surface."""

from __future__ import annotations


class RequestRefused(Exception):
    """Why a request is refused, with its HTTP status; the detail names no secret and echoes no input."""

    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status, self.detail = status, detail
