import pytest

from events.models import Presenter
from tests.factories import make_event


@pytest.fixture
def slides_root(tmp_path, settings):
    root = tmp_path / "slides"
    root.mkdir()
    settings.SLIDES_ROOT = root
    settings.CELERY_TASK_ALWAYS_EAGER = True  # rendered here, not left on the shared broker
    return root


@pytest.fixture
def event(slides_root):
    return make_event()


@pytest.fixture
def presenter(event):
    return Presenter.objects.create(event=event, name="Ada")


def files_under(root) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())
