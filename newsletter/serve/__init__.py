"""serve: the subscriber web service (sign-up, double opt-in, unsubscribe, preferences)."""

from newsletter.serve.app import Service, build_service, create_app

__all__ = ["Service", "build_service", "create_app"]
