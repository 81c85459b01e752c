from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from contact_center.views import composer, console, exports, files, settings, settings_admin, site

urlpatterns = [
    path("", site.demo, name="demo"),
    path("demo/<slug:name>/", site.demo, name="demo-page"),
    path("healthz", site.healthz, name="healthz"),
    path("console/", console.index, name="console"),
    path("console/login/", auth_views.LoginView.as_view(), name="login"),
    path("console/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("console/password/", settings_admin.PasswordChangeView.as_view(), name="password-change"),
    path("console/password/done/", settings_admin.PasswordChangeDoneView.as_view(), name="password-change-done"),
    path("console/settings/inboxes/", settings_admin.inboxes, name="settings-inboxes"),
    path("console/settings/inboxes/<int:inbox_id>/", settings_admin.inbox, name="settings-inbox-edit"),
    path("console/settings/agents/", settings_admin.agents, name="settings-agents"),
    path("console/settings/agents/new/", settings_admin.new_agent, name="settings-agent-new"),
    path("console/settings/agents/<int:agent_id>/", settings_admin.agent, name="settings-agent-edit"),
    path("console/settings/teams/", settings_admin.teams, name="settings-teams"),
    path("console/settings/teams/<int:team_id>/", settings_admin.team, name="settings-team-edit"),
    path("console/settings/canned/", settings.canned_responses, name="settings-canned"),
    path("console/settings/canned/<int:canned_id>/", settings.canned_response, name="settings-canned-edit"),
    path("console/api/canned/", settings.canned_response_list, name="canned-list"),
    path("console/settings/labels/", settings.labels, name="settings-labels"),
    path("console/settings/labels/<int:label_id>/", settings.label, name="settings-label-edit"),
    path("console/api/labels/", settings.label_list, name="label-list"),
    path("console/api/conversations/", console.conversation_list, name="conversation-list"),
    path("console/api/conversations/counts/", console.conversation_counts, name="conversation-counts"),
    path("console/api/views/", console.saved_view_list, name="saved-views"),
    path("console/export/conversations.csv", exports.conversations_csv, name="export-conversations"),
    path("console/api/search/", console.search_results, name="console-search"),
    path("console/api/customers/<int:customer_id>/", console.customer_profile, name="customer-profile"),
    path("console/api/customers/<int:customer_id>/timeline/", console.customer_timeline, name="customer-timeline"),
    path("console/api/companies/", console.company_list, name="company-list"),
    path("console/api/conversations/<int:conversation_id>/entries/", console.conversation_entries, name="entries"),
    path("console/api/uploads/", composer.upload, name="console-uploads"),
    path("console/api/kb/articles/", composer.kb_articles, name="console-kb-articles"),
    path("widget/", include("widget.urls")),
    # Twilio: texts customers send, status callbacks for the ones Parley sends (signed; channels_adapters/sms/views.py).
    path("channels/twilio/", include("channels_adapters.sms.urls")),
    # Attachments are private: served only through signed links, never from MEDIA_URL.
    path("files/<str:token>/", files.attachment, name="attachment"),
    path("files/<str:token>/<path:filename>", files.attachment, name="attachment-named"),
    path("admin/", admin.site.urls),
]
