"""One package per channel, each shaped like its siblings: see docs/architecture.md.

Built: ``email`` (outgoing mail over SMTP) and ``sms`` (Twilio, in and out); the widget lives in the
top-level ``widget`` package. Planned, not here yet: inbound email, WhatsApp and voice.
"""
