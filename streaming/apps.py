from django.apps import AppConfig


class StreamingConfig(AppConfig):
    name = "streaming"
    verbose_name = "Streaming"

    def ready(self) -> None:
        from stage.signals import stage_changed
        from streaming.runners import on_stage_changed

        stage_changed.connect(on_stage_changed, dispatch_uid="streaming.start_mixer")
