from django.urls import path, re_path

from events.views import organiser, public, viewer

app_name = "events"

urlpatterns = [
    path("", public.event_list, name="list"),
    path("e/<slug:slug>/", public.event_detail, name="detail"),
    path("e/<slug:slug>/registered/", public.registered, name="registered"),
    path("e/<slug:slug>/calendar.ics", public.calendar_file, name="calendar"),
    path("e/<slug:slug>/status.json", viewer.event_status, name="status"),
    path("e/<slug:slug>/watch/", viewer.webcast, name="webcast"),
    path("e/<slug:slug>/report/", organiser.report, name="report"),
    path("e/<slug:slug>/report/registrants.csv", organiser.registrants_csv, name="registrants-csv"),
    path("e/<slug:slug>/report/questions-and-polls.csv", organiser.audience_csv, name="audience-csv"),
    path("presence/", viewer.presence, name="presence"),
    path("join/<int:registration_id>/<str:key>/", viewer.join, name="join"),
    path("join/<int:registration_id>/<str:key>/cancel/", viewer.cancel, name="cancel"),
    re_path(r"^join/(?P<rest>.*)$", viewer.link_not_found),
]
