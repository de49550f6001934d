from django.conf import settings
from django.contrib.auth.views import LogoutView
from django.urls import path, re_path
from django.views.static import serve

from bench.peers.django_starter import views

urlpatterns = [
    path("auth/login", views.SignInView.as_view(), name="login"),
    path("auth/logout", LogoutView.as_view(next_page="login"), name="logout"),
    path("dashboard", views.dashboard, name="dashboard"),
    re_path(r"^static/(?P<path>.*)$", serve, {"document_root": settings.PROJECT_STATIC}),
]
