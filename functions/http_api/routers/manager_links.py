"""Placeholder: filled by the engineer who owns this module."""

from fastapi import APIRouter

router = APIRouter()
