from django.urls import path, re_path

from widget import fallback, offline, selfservice, uploads, views

app_name = "widget"
urlpatterns = [
    path("loader.js", views.loader, name="loader"),
    re_path(r"^(?P<name>frame|uploads|offline|selfservice)\.js$", views.frame_script, name="frame-script"),
    path("frame/<str:public_key>/", views.frame, name="frame"),
    path("api/session/", views.session, name="session"),
    path("api/uploads/", uploads.upload, name="uploads"),
    path("api/poll/", fallback.poll, name="poll"),
    path("api/messages/", fallback.messages, name="messages"),
    path("api/availability/", offline.availability, name="availability"),
    path("api/offline/", offline.offline_message, name="offline"),
    path("api/transcript/", offline.transcript, name="transcript"),
    path("api/appearance/<str:public_key>/", views.appearance, name="appearance"),
    path("api/suggestions/", selfservice.suggestions, name="suggestions"),
    path("api/articles/<int:article_id>/", selfservice.article, name="article"),
    path("api/deflections/", selfservice.deflections, name="deflections"),
]
