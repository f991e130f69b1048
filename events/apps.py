from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = "Events"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from events import checks, form_cache  # noqa: F401  (checks registers the deployment checks)
        from events.models import Event, Question

        for model in (Event, Question):
            post_save.connect(form_cache.forget, sender=model, dispatch_uid=f"form-cache-{model.__name__}-save")
            post_delete.connect(form_cache.forget, sender=model, dispatch_uid=f"form-cache-{model.__name__}-delete")
