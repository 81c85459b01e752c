from django.urls import path

from channels_adapters.sms import views

app_name = "sms"
urlpatterns = [
    path("status/", views.message_status, name="twilio-status"),
    path("sms/", views.incoming_message, name="twilio-sms"),
]
