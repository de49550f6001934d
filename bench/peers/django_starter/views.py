"""The Django peer's views: sign-in, dashboard, and the headers middleware."""

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.shortcuts import render

from bench.peers.page import SECURITY_HEADERS, dashboard_facts

# What SecurityMiddleware and XFrameOptionsMiddleware leave out.
HEADERS_DJANGO_LACKS = ("Content-Security-Policy", "Permissions-Policy", "Cross-Origin-Resource-Policy")


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        for name in HEADERS_DJANGO_LACKS:
            response[name] = SECURITY_HEADERS[name]
        if not request.path.startswith(settings.STATIC_URL):
            response["Cache-Control"] = SECURITY_HEADERS["Cache-Control"]
        return response


class SignInForm(AuthenticationForm):
    remember = forms.BooleanField(required=False, label="Keep me signed in on this device")


class SignInView(LoginView):
    form_class = SignInForm
    template_name = "login.html"

    def form_valid(self, form):
        response = super().form_valid(form)
        self.request.session["signed_in_from"] = self.request.META.get("REMOTE_ADDR")
        if not form.cleaned_data["remember"]:
            # Until the browser closes, like the Flask starter's session without remember-me.
            self.request.session.set_expiry(0)
        return response


@login_required
def dashboard(request):
    facts = dashboard_facts(
        signed_in_at=request.user.last_login,
        address=request.session.get("signed_in_from"),
        session_cookie=request.COOKIES[settings.SESSION_COOKIE_NAME],
        session_keys=request.session.keys(),
    )
    return render(request, "dashboard.html", facts)
