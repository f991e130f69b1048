from django.contrib import admin
from django.urls import include, path

from streaming.views import hls_file

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("hls/<int:event_id>/<str:name>", hls_file, name="hls-file"),
    path("", include("stage.urls")),
    path("", include("events.urls")),
]
