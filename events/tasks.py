from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string

from events.models import Registration


@shared_task
def send_join_link(registration_id: int) -> None:
    """Email a registrant their personal join link."""
    registration = Registration.objects.select_related("event").filter(pk=registration_id).first()
    if registration is None:  # deleted before the mail went out: nobody to write to
        return
    context = {
        "registration": registration,
        "event": registration.event,
        "join_url": settings.SITE_URL + registration.get_join_url(),
    }
    send_mail(
        subject=f"Your link for {registration.event.title}",
        message=render_to_string("events/email/join_link.txt", context),
        from_email=None,
        recipient_list=[registration.email],
    )
