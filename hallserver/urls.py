from django.contrib import admin
from django.urls import include, path
from django.views.generic.base import RedirectView

from booths import views
from hallserver import metrics
from hallserver.api import api
from streaming.urls import hls_urlpatterns

urlpatterns = [
    path("admin/", admin.site.urls),
    path("recordings/", include("streaming.urls")),
    path("hls/", include((hls_urlpatterns, "hls"))),
    # The HTTP API (django-ninja: booths/api.py and the other apps' routers), its OpenAPI
    # document at /api/openapi.json and interactive docs at /api/docs. /healthz and /readyz
    # are answered before Django (hallserver/health.py).
    path("api/", api.urls),
    # Prometheus text for this process (hallserver/metrics.py: who may read it).
    path("metrics", metrics.view),
    path("favicon.ico", RedirectView.as_view(url="/static/app/favicon.svg", permanent=True)),
    path("", views.page),
    path("login", views.page),
    path("hall/<int:hall_id>", views.page),
    path("booth/<int:booth_id>", views.page),
    path("moderate", views.page),
    path("signup", views.page),
    path("profile", views.page),
    path("jobs", views.page),
    path("job/<int:job_id>", views.page),
    path("applications", views.page),
    path("booth/<int:booth_id>/recruit", views.page),
    path("console", views.page),
    path("console/expo", views.page),
    path("console/<int:booth_id>", views.page),
    # project docking (frontend/docking/)
    path("projects", views.page),
    path("projects/new", views.page),
    path("project/<int:project_id>", views.page),
    path("meetings", views.page),
    path("investor", views.page),
]
