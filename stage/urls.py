from django.urls import path

from stage import audience, views

app_name = "stage"

urlpatterns = [
    path("console/<int:event_id>/", views.console, name="console"),
    path("console/<int:event_id>/audience.json", views.audience_count, name="audience-count"),
    path("greenroom/<int:presenter_pk>/<str:key>/", views.greenroom, name="greenroom"),
    # The viewers' Q&A and polls, beside the webcast page's other URLs (events/urls.py).
    path("e/<slug:slug>/audience.json", audience.audience, name="audience"),
    path("e/<slug:slug>/questions/", audience.ask, name="ask"),
    path("e/<slug:slug>/questions/mine.json", audience.mine, name="my-questions"),
    path("e/<slug:slug>/questions/<str:question_id>/vote/", audience.upvote, name="upvote"),
    path("e/<slug:slug>/polls/<str:poll_id>/vote/", audience.answer, name="answer"),
]
