from django.urls import path

from widget import fallback, uploads, views

app_name = "widget"
urlpatterns = [
    path("loader.js", views.loader, name="loader"),
    path("frame/<str:public_key>/", views.frame, name="frame"),
    path("api/session/", views.session, name="session"),
    path("api/uploads/", uploads.upload, name="uploads"),
    path("api/poll/", fallback.poll, name="poll"),
    path("api/messages/", fallback.messages, name="messages"),
    path("api/appearance/<str:public_key>/", views.appearance, name="appearance"),
]
