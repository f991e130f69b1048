"""The webcast's files in the embedded default: public HLS and replay, and the rehearsal's private
output for producers and (by their green-room key) presenters; the media pass the public files need.
Include with `path("", include("streaming.urls"))`."""

from django.urls import path

from streaming.passes import issue_pass
from streaming.views import hls_file, presenter_private_hls_file, private_hls_file, slide_file

urlpatterns = [
    path(
        "hls/<int:event_id>/private/<int:presenter_pk>/<str:key>/<str:name>",
        presenter_private_hls_file,
        name="hls-presenter-private-file",
    ),
    path("hls/<int:event_id>/pass/", issue_pass, name="hls-pass"),
    path("hls/<int:event_id>/slides/<str:files>/<str:name>", slide_file, name="slide-file"),
    path("hls/<int:event_id>/private/<str:name>", private_hls_file, name="hls-private-file"),
    path("hls/<int:event_id>/<str:name>", hls_file, name="hls-file"),
]
