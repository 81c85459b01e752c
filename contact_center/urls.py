from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from contact_center.views import console, files, settings, site

urlpatterns = [
    path("", site.demo, name="demo"),
    path("demo/<slug:name>/", site.demo, name="demo-page"),
    path("healthz", site.healthz, name="healthz"),
    path("console/", console.index, name="console"),
    path("console/login/", auth_views.LoginView.as_view(), name="login"),
    path("console/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("console/settings/inboxes/", settings.inboxes, name="settings-inboxes"),
    path("console/settings/canned/", settings.canned_responses, name="settings-canned"),
    path("console/settings/canned/<int:canned_id>/", settings.canned_response, name="settings-canned-edit"),
    path("console/api/canned/", settings.canned_response_list, name="canned-list"),
    path("console/settings/labels/", settings.labels, name="settings-labels"),
    path("console/settings/labels/<int:label_id>/", settings.label, name="settings-label-edit"),
    path("console/api/labels/", settings.label_list, name="label-list"),
    path("console/api/conversations/", console.conversation_list, name="conversation-list"),
    path("console/api/conversations/counts/", console.conversation_counts, name="conversation-counts"),
    path("console/api/customers/<int:customer_id>/", console.customer_profile, name="customer-profile"),
    path("console/api/customers/<int:customer_id>/timeline/", console.customer_timeline, name="customer-timeline"),
    path("console/api/conversations/<int:conversation_id>/entries/", console.conversation_entries, name="entries"),
    path("widget/", include("widget.urls")),
    # Attachments are private: served only through signed links, never from MEDIA_URL.
    path("files/<str:token>/", files.attachment, name="attachment"),
    path("files/<str:token>/<path:filename>", files.attachment, name="attachment-named"),
    path("admin/", admin.site.urls),
]
