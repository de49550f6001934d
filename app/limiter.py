"""Flask-Limiter, not consulted for a safe request that no limit of its route counts.

Most routes count no GET, HEAD or OPTIONS request (the sign-in limits count POSTs),
yet Flask-Limiter works a request's limits out before each view: it builds its
request context, resolves the route's limits and exemptions and runs its request
filters, twice on a decorated route (its ``before_request`` hook and the decorator),
to find nothing to count. That was a tenth of the time of the sign-in page and of the
dashboard (bench/breakdown.py).

``SafeMethodLimiter`` asks once per route, from Flask-Limiter's own resolution of
the route's limits, whether any of them counts a safe method, and skips the work
for safe requests where none does. Nothing that counts is skipped:

- a limit that names GET, or names no method (the emailed links' limit, an
  operator's ``RATELIMIT_DEFAULT``), keeps its route checked on every request;
- with ``RATELIMIT_APPLICATION`` or ``RATELIMIT_META`` set, every request is checked;
- while Flask-Limiter runs on its in-memory fallback, every request is checked, as it
  notices that its Redis is back only while it works a request's limits out.
"""

from flask import current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_qualified_name

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Per app: endpoint -> True when no limit of the route counts a safe method.
ROUTES_KEY = "routes_without_safe_method_limits"


class SafeMethodLimiter(Limiter):
    """``flask_limiter.Limiter`` that skips its check where it would count nothing."""

    def _check_request_limit(self, callable_name=None, in_middleware=True):
        # Flask-Limiter's one entry point for a request's check: its before_request
        # hook and its decorators both call it (flask_limiter 4.1, pinned).
        if request.method in SAFE_METHODS and not self._storage_dead and self._uncounted_route(request.endpoint):
            return
        super()._check_request_limit(callable_name, in_middleware)

    def _uncounted_route(self, endpoint):
        routes = current_app.extensions.setdefault(ROUTES_KEY, {})
        uncounted = routes.get(endpoint)
        if uncounted is None:
            uncounted = routes[endpoint] = not self._limits_count_safe_methods(endpoint)
        return uncounted

    def _limits_count_safe_methods(self, endpoint):
        config = current_app.config
        if config.get("RATELIMIT_APPLICATION") or config.get("RATELIMIT_META"):
            return True
        view = current_app.view_functions.get(endpoint)
        defaults, decorated = self.limit_manager.resolve_limits(
            current_app, endpoint, request.blueprint, get_qualified_name(view) if view else None
        )
        safe = {method.lower() for method in SAFE_METHODS}
        return any(limit.methods is None or safe & set(limit.methods) for limit in [*defaults, *decorated])
