from django.apps import AppConfig


class StreamingConfig(AppConfig):
    name = "streaming"
    verbose_name = "Streaming"

    def ready(self) -> None:
        from stage import mixer_mail
        from stage.signals import stage_changed
        from streaming.runners import on_stage_changed
        from streaming.uplink import send_control

        stage_changed.connect(on_stage_changed, dispatch_uid="streaming.start_mixer")
        # The stage sockets' WebRTC signals reach the mixer the way browser uplinks do.
        mixer_mail.register(send_control)
