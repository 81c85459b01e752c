from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.static import serve

from contact_center.views import console, site

urlpatterns = [
    path("", site.demo, name="demo"),
    path("healthz", site.healthz, name="healthz"),
    path("console/", console.index, name="console"),
    path("console/login/", auth_views.LoginView.as_view(), name="login"),
    path("console/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("console/api/conversations/", console.conversation_list, name="conversation-list"),
    path("console/api/conversations/<int:conversation_id>/entries/", console.conversation_entries, name="entries"),
    path("widget/", include("widget.urls")),
    path("admin/", admin.site.urls),
]
if settings.DEBUG:
    urlpatterns.append(path("media/<path:path>", serve, {"document_root": settings.MEDIA_ROOT}))
