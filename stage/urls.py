from django.urls import path

from stage import views

app_name = "stage"

urlpatterns = [
    path("console/<int:event_id>/", views.console, name="console"),
    path("greenroom/<int:presenter_pk>/<str:key>/", views.greenroom, name="greenroom"),
]
