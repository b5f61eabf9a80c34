"""The staff-access blueprint: sign-in, the staff pages and the account pages register on it."""

from flask import Blueprint

bp = Blueprint("auth", __name__)
