"""Specs of the outbox: claims, leases, retries and the worker that delivers."""
