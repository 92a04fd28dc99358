from django.contrib import admin
from django.contrib.staticfiles.urls import staticfiles_urlpatterns
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from torghut.console import ops
from torghut.core import health, metrics

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("ops/", ops.ops_page, name="ops"),
    path("api/schema/", SpectacularAPIView.as_view(), name="openapi-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="openapi-schema"), name="openapi-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="openapi-schema"), name="openapi-redoc"),
    path("trading/", include("trading.urls")),
    path("research/", include("research.urls")),
    path("governance/", include("governance.urls")),
]

# Development only (DEBUG on): serve admin CSS/JS from the app folders without collectstatic.
urlpatterns += staticfiles_urlpatterns()
