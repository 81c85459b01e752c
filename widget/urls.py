from django.urls import path

from widget import views

app_name = "widget"
urlpatterns = [
    path("loader.js", views.loader, name="loader"),
    path("frame/<str:public_key>/", views.frame, name="frame"),
    path("api/session/", views.session, name="session"),
]
