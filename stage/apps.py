from django.apps import AppConfig


class StageConfig(AppConfig):
    name = "stage"
    verbose_name = "Stage"

    def ready(self) -> None:
        from stage import links, roster

        roster.connect()
        links.connect()
