from django.apps import AppConfig


class StageConfig(AppConfig):
    name = "stage"
    verbose_name = "Stage"

    def ready(self) -> None:
        from stage import roster

        roster.connect()
