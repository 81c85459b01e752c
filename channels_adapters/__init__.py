"""One package per channel (email, sms, voice), each shaped like its siblings: see docs/architecture.md."""
