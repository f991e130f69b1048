from django.apps import AppConfig


class StreamingConfig(AppConfig):
    name = "streaming"
    verbose_name = "Streaming"

    def ready(self) -> None:
        from events.signals import watching_withdrawn
        from stage import mixer_mail
        from stage.signals import stage_changed
        from streaming.renewals import on_watching_withdrawn
        from streaming.runners import on_stage_changed
        from streaming.uplink import send_control

        stage_changed.connect(on_stage_changed, dispatch_uid="streaming.start_mixer")
        watching_withdrawn.connect(on_watching_withdrawn, dispatch_uid="streaming.renewals")
        # The stage sockets' WebRTC signals reach the mixer the way browser uplinks do.
        mixer_mail.register(send_control)
