"""The landing page and ``/healthz`` for load balancers and compose health checks."""

from flask import Blueprint, current_app, jsonify, render_template
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from redis.exceptions import RedisError

from ..extensions import db, limiter

bp = Blueprint("main", __name__)


@bp.get("/")
def index():
    return render_template("index.html")


@bp.get("/healthz")
@limiter.exempt
def healthz():
    checks = {"redis": _redis_status(), "database": _database_status()}
    healthy = all(status in ("ok", "embedded") for status in checks.values())
    body = {"status": "ok" if healthy else "degraded", **checks}
    return jsonify(body), 200 if healthy else 503


def _redis_status():
    client = current_app.extensions.get("redis")
    if client is None:
        return "embedded"
    try:
        client.ping()
    except RedisError:
        return "unreachable"
    return "ok"


def _database_status():
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return "unreachable"
    return "ok"
