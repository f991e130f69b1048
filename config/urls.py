from django.contrib import admin
from django.urls import include, path

from config.metrics import metrics
from events.views.errors import server_error
from events.views.signin import login, throttled

# A request the database could not answer gets a 503 "back in a moment", not a server error.
handler500 = server_error

urlpatterns = [
    # The sign-in pages, throttled against password guessing; listed before the routes they override.
    path("admin/login/", throttled(admin.site.login)),
    path("admin/", admin.site.urls),
    path("accounts/login/", login, name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    # Each server process's Prometheus figures, for METRICS_TOKEN or staff (config/metrics.py).
    path("metrics", metrics, name="metrics"),
    # The event pages first: a registration is the busiest page request, and each pattern tried
    # before the one that matches costs (no pattern of one app matches another's paths).
    path("", include("events.urls")),
    path("", include("streaming.urls")),
    path("", include("stage.urls")),
]
