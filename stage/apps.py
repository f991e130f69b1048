from django.apps import AppConfig


class StageConfig(AppConfig):
    name = "stage"
    verbose_name = "Stage"

    def ready(self) -> None:
        from stage import line_rules, links, roster

        roster.connect()
        links.connect()
        line_rules.connect()
