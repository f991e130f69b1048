from django.urls import path

from events import views

app_name = "events"

urlpatterns = [
    path("", views.event_list, name="list"),
    path("e/<slug:slug>/", views.event_detail, name="detail"),
    path("e/<slug:slug>/status.json", views.event_status, name="status"),
    path("e/<slug:slug>/watch/", views.webcast, name="webcast"),
    path("join/<int:registration_id>/<str:key>/", views.join, name="join"),
]
